using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §5 NOOP (it also restarts the autologout timer, as every command does).</summary>
internal sealed class NoopHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        session.Ok(""u8);
        return Task.CompletedTask;
    }
}