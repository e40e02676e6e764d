using Pochta.Imap.Protocol;

namespace Pochta.Imap.Handlers;

/// <summary>RFC 9051 §6.1.1 CAPABILITY.</summary>
internal sealed class CapabilityHandler : CommandHandler<CapabilityCommand>
{
    protected override Task<CommandResult> ExecuteAsync(ImapSession session, CapabilityCommand command, CancellationToken cancellationToken)
    {
        session.Writer.Untagged().Raw("CAPABILITY "u8).Ascii(Capabilities.Build(session)).EndLine();
        return Task.FromResult(CommandResult.Ok("CAPABILITY completed"));
    }
}

/// <summary>RFC 9051 §6.1.2 NOOP and §6.4.1 CHECK (a checkpoint is implicit: every write is
/// committed when it completes). Mailbox updates are sent by the session before the tagged OK.</summary>
internal sealed class NoopHandler : ICommandHandler
{
    public Task<CommandResult> ExecuteAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        session.Selected?.Signal();
        return Task.FromResult(CommandResult.Ok(command.Name + " completed"));
    }
}

/// <summary>RFC 9051 §6.1.3 LOGOUT: BYE, then the tagged OK, then close.</summary>
internal sealed class LogoutHandler : CommandHandler<LogoutCommand>
{
    protected override Task<CommandResult> ExecuteAsync(ImapSession session, LogoutCommand command, CancellationToken cancellationToken)
    {
        session.Writer.UntaggedStatus(ImapStatus.Bye, null, "Logging out");
        session.Writer.Tagged(command.Tag, ImapStatus.Ok, null, "LOGOUT completed");
        session.EndLogout();
        return Task.FromResult(CommandResult.AlreadySent);
    }
}

/// <summary>RFC 2971 ID: the server's identity; the client's fields are not logged or echoed.</summary>
internal sealed class IdHandler : CommandHandler<IdCommand>
{
    protected override Task<CommandResult> ExecuteAsync(ImapSession session, IdCommand command, CancellationToken cancellationToken)
    {
        session.Writer.Untagged().Raw("ID (\"name\" \"Pochta\" \"vendor\" \"Pochta\")"u8).EndLine();
        return Task.FromResult(CommandResult.Ok("ID completed"));
    }
}