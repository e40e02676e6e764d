using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §5 DELE msg: marks only; the message goes in UPDATE (QUIT).</summary>
internal sealed class DeleHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var number = ((MessageCommand)command).Message;
        var maildrop = session.Maildrop!;
        if (maildrop.IsDeleted(number))
        {
            session.Err("Message already deleted"u8);
        }
        else if (!maildrop.TryGetLive(number, out _))
        {
            session.Err("No such message"u8);
        }
        else
        {
            maildrop.MarkDeleted(number);
            session.Ok("Message deleted"u8);
        }

        return Task.CompletedTask;
    }
}