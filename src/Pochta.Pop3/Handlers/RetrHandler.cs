using System.Text;

using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §5 RETR msg: the stored message, streamed and byte-stuffed. A retrieved
/// message is marked \Seen (committed with the pipelined batch) for the retention rule.</summary>
internal sealed class RetrHandler : IPop3CommandHandler
{
    public async Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var number = ((MessageCommand)command).Message;
        if (!session.Maildrop!.TryGetLive(number, out var entry))
        {
            session.Err("No such message"u8);
            return;
        }

        var ok = Encoding.ASCII.GetBytes($"{entry.Size} octets");
        if (!await session.StreamMessageAsync(number, entry, ok, topLines: null, cancellationToken))
        {
            session.Err("Message is no longer available"u8);
            return;
        }

        if (!session.CloseRequested)
        {
            // Only a message the client received in full counts as retrieved.
            session.MarkRetrieved(number);
        }
    }
}