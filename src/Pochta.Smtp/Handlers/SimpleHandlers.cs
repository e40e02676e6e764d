using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Handlers;

/// <summary>RFC 5321 §4.1.1.5: RSET aborts the transaction; EHLO/HELO state is kept.</summary>
internal sealed class RsetHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        await session.ResetTransactionAsync();
        session.Reply(SmtpReplies.ResetOk);
        return true;
    }
}

/// <summary>RFC 5321 §4.1.1.9.</summary>
internal sealed class NoopHandler : ISmtpCommandHandler
{
    public ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        session.Reply(SmtpReplies.Ok);
        return ValueTask.FromResult(true);
    }
}

/// <summary>RFC 5321 §4.1.1.10: 221, then close; an open transaction is discarded.</summary>
internal sealed class QuitHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        await session.ResetTransactionAsync();
        session.Reply(SmtpReplies.Bye);
        return false;
    }
}

/// <summary>RFC 5321 §3.5.3: 252 for everyone — addresses are not disclosed (harvesting).</summary>
internal sealed class VrfyHandler : ISmtpCommandHandler
{
    public ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        session.Reply(SmtpReplies.VrfyCannot);
        return ValueTask.FromResult(true);
    }
}

/// <summary>RFC 5321 §3.5.2: list expansion is not offered.</summary>
internal sealed class ExpnHandler : ISmtpCommandHandler
{
    public ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        session.Reply(SmtpReplies.NotImplemented);
        return ValueTask.FromResult(true);
    }
}

/// <summary>RFC 5321 §4.1.1.8.</summary>
internal sealed class HelpHandler : ISmtpCommandHandler
{
    public ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        session.Reply(SmtpReplies.Help);
        return ValueTask.FromResult(true);
    }
}