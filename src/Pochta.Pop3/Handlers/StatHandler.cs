using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §5 STAT: count and octets of the messages not marked deleted.</summary>
internal sealed class StatHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var maildrop = session.Maildrop!;
        Pop3ResponseWriter.Stat(session.Writer, maildrop.LiveCount, maildrop.LiveSize);
        return Task.CompletedTask;
    }
}