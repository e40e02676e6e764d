using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §7 TOP msg n: the header, the blank line and n body lines, read from the
/// store only as far as needed. Does not mark the message \Seen.</summary>
internal sealed class TopHandler : IPop3CommandHandler
{
    private static readonly byte[] OkText = "Top of message follows"u8.ToArray();

    public async Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var top = (TopCommand)command;
        if (!session.Maildrop!.TryGetLive(top.Message, out var entry))
        {
            session.Err("No such message"u8);
            return;
        }

        if (!await session.StreamMessageAsync(top.Message, entry, OkText, top.Lines, cancellationToken))
        {
            session.Err("Message is no longer available"u8);
        }
    }
}