using Pochta.Imap.Protocol;

namespace Pochta.Imap.Handlers;

/// <summary>The tagged completion of a command. <see cref="Sent"/> means the handler wrote it itself
/// (LOGOUT, STARTTLS, IDLE, COMPRESS: their completion must go out at a precise point).</summary>
internal readonly record struct CommandResult(ImapStatus Status, string? Code, string Text, bool Sent = false)
{
    public static CommandResult Ok(string text, string? code = null) => new(ImapStatus.Ok, code, text);

    public static CommandResult No(string text, string? code = null) => new(ImapStatus.No, code, text);

    public static CommandResult Bad(string text, string? code = null) => new(ImapStatus.Bad, code, text);

    public static CommandResult AlreadySent { get; } = new(ImapStatus.Ok, null, string.Empty, true);
}

/// <summary>One handler per command (RFC 9051 §6). Handlers write untagged responses through the
/// session and return the tagged result; the session sends pending mailbox updates first.</summary>
internal interface ICommandHandler
{
    Task<CommandResult> ExecuteAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken);
}

internal abstract class CommandHandler<T> : ICommandHandler
    where T : ImapCommand
{
    public Task<CommandResult> ExecuteAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken) =>
        ExecuteAsync(session, (T)command, cancellationToken);

    protected abstract Task<CommandResult> ExecuteAsync(ImapSession session, T command, CancellationToken cancellationToken);
}