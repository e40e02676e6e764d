using System.Globalization;

using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Handlers;

/// <summary>
/// RFC 5321 §4.1.1.1 EHLO: resets any transaction and lists exactly the extensions this session can
/// use now. The greeting line names the server only (the client's name is not echoed).
/// </summary>
internal sealed class EhloHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        var hello = (SmtpHelloCommand)command;
        await session.ResetTransactionAsync();
        session.ClientName = hello.ClientName;
        session.Extended = true;
        session.State = SmtpState.Ready;

        var options = session.Context.Options;
        var lines = new List<string>
        {
            session.HostName,
            "PIPELINING",
            "SIZE " + options.MaxMessageSize.ToString(CultureInfo.InvariantCulture),
            "8BITMIME",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
            "CHUNKING",
            "BINARYMIME",
            "DSN",
        };

        // RFC 3207 §4.2: STARTTLS is not offered once TLS is active.
        if (session.Connection.CanStartTls)
        {
            lines.Add("STARTTLS");
        }

        if (session.AuthAllowed)
        {
            var mechanisms = session.Context.Authenticator.GetMechanisms(session.Connection.IsSecure);
            if (mechanisms.Count > 0)
            {
                lines.Add("AUTH " + string.Join(' ', mechanisms));
            }
        }

        session.Reply(new SmtpReply(250, null, lines));
        return true;
    }
}

/// <summary>RFC 5321 §4.1.1.1 HELO: no extensions; ESMTP parameters are refused afterwards.</summary>
internal sealed class HeloHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        var hello = (SmtpHelloCommand)command;
        await session.ResetTransactionAsync();
        session.ClientName = hello.ClientName;
        session.Extended = false;
        session.State = SmtpState.Ready;
        session.Reply(new SmtpReply(250, null, session.HostName));
        return true;
    }
}