using System.Globalization;
using System.Text;

namespace Pochta.Imap;

/// <summary>The CAPABILITY list (RFC 9051 §7.2.2): exactly what this server implements, and
/// what is usable in the session's current state and security.</summary>
internal static class Capabilities
{
    public static string Build(ImapSession session)
    {
        var sb = new StringBuilder("IMAP4rev1 IMAP4rev2");
        var connection = session.Connection;
        if (session.State == SessionStates.NotAuthenticated)
        {
            if (connection.CanStartTls)
            {
                sb.Append(" STARTTLS");
            }

            if (!connection.IsSecure)
            {
                // RFC 9051 §6.2.3 / §7.2.2: no plaintext LOGIN before TLS.
                sb.Append(" LOGINDISABLED");
            }

            foreach (var mechanism in session.Services.Authenticator.GetMechanisms(connection.IsSecure))
            {
                sb.Append(" AUTH=").Append(mechanism);
            }

            sb.Append(" SASL-IR");
        }

        sb.Append(" LITERAL- ENABLE ID IDLE NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN LIST-EXTENDED LIST-STATUS");
        sb.Append(" SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE ESEARCH SEARCHRES CONDSTORE QRESYNC BINARY MULTIAPPEND");
        sb.Append(" UTF8=ACCEPT SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES UNAUTHENTICATE");
        sb.Append(Handlers.ImapQuota.Capabilities);
        sb.Append(" APPENDLIMIT=").Append(session.Services.Options.MaxMessageSize.ToString(CultureInfo.InvariantCulture));
        if (session.Services.Options.AllowCompress && !session.IsCompressed && session.State != SessionStates.NotAuthenticated)
        {
            sb.Append(" COMPRESS=DEFLATE");
        }

        return sb.ToString();
    }
}