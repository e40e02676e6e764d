using Pochta.Smtp.Handlers;
using Pochta.Smtp.Protocol;

namespace Pochta.Smtp;

/// <summary>A command handler. Returns false to close the connection (after flushing).</summary>
internal interface ISmtpCommandHandler
{
    ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken);
}

/// <summary>
/// THE legality table: for each command the states in which it is allowed and its handler.
/// A command outside its states gets 503 5.5.1 (RFC 5321 §4.1.4); a BDAT chunk is read and
/// discarded first so the session stays in sync (RFC 3030 §2).
/// </summary>
internal static class SmtpCommandTable
{
    private static readonly Dictionary<SmtpCommandKind, (SmtpState Allowed, ISmtpCommandHandler Handler)> Table = new()
    {
        [SmtpCommandKind.Ehlo] = (SmtpState.Any, new EhloHandler()),
        [SmtpCommandKind.Helo] = (SmtpState.Any, new HeloHandler()),
        [SmtpCommandKind.StartTls] = (SmtpState.Connected | SmtpState.Ready, new StartTlsHandler()),
        [SmtpCommandKind.Auth] = (SmtpState.Ready, new AuthHandler()),
        [SmtpCommandKind.Mail] = (SmtpState.Ready, new MailHandler()),
        [SmtpCommandKind.Rcpt] = (SmtpState.Mail | SmtpState.Rcpt, new RcptHandler()),
        [SmtpCommandKind.Data] = (SmtpState.Mail | SmtpState.Rcpt, new DataHandler()),
        [SmtpCommandKind.Bdat] = (SmtpState.Mail | SmtpState.Rcpt | SmtpState.Chunking, new BdatHandler()),
        [SmtpCommandKind.Rset] = (SmtpState.Any, new RsetHandler()),
        [SmtpCommandKind.Noop] = (SmtpState.Any, new NoopHandler()),
        [SmtpCommandKind.Quit] = (SmtpState.Any, new QuitHandler()),
        [SmtpCommandKind.Vrfy] = (SmtpState.Any, new VrfyHandler()),
        [SmtpCommandKind.Expn] = (SmtpState.Any, new ExpnHandler()),
        [SmtpCommandKind.Help] = (SmtpState.Any, new HelpHandler()),
    };

    public static bool IsAllowed(SmtpCommandKind kind, SmtpState state) => (Table[kind].Allowed & state) != 0;

    public static async ValueTask<bool> DispatchAsync(SmtpSession session, SmtpReadResult result, CancellationToken cancellationToken)
    {
        if (result.Status == SmtpReadStatus.Error)
        {
            session.Reply(SmtpReplies.For(result.Error));
            return true;
        }

        var command = result.Command!;
        var (allowed, handler) = Table[command.Kind];
        if ((allowed & session.State) == 0)
        {
            if (command is SmtpBdatCommand bdat && !await session.ReceiveChunkAsync(bdat.Size, null, cancellationToken))
            {
                return false;
            }

            session.Reply(SmtpReplies.BadSequence);
            return true;
        }

        return await handler.HandleAsync(session, command, cancellationToken);
    }
}