using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §4/§6 QUIT. From AUTHORIZATION it just ends the session; from TRANSACTION it
/// enters UPDATE, expunges the messages marked by DELE (IMAP sessions see ordinary expunges) and
/// answers +OK only after that commit.</summary>
internal sealed class QuitHandler : IPop3CommandHandler
{
    public async Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        if (session.State == Pop3State.Authorization)
        {
            session.Ok("Pochta POP3 server signing off"u8);
            session.CloseRequested = true;
            return;
        }

        await session.EnterUpdateAsync(cancellationToken);
    }
}