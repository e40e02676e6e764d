using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §5 LIST [msg]: scan listings; messages marked deleted are not listed.
/// Sizes are the stored octets, which are the octets RETR sends before byte-stuffing (CRLF lines).</summary>
internal sealed class ListHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var maildrop = session.Maildrop!;
        var w = session.Writer;
        if (((ListingCommand)command).Message is { } number)
        {
            if (maildrop.TryGetLive(number, out var entry))
            {
                Pop3ResponseWriter.ScanListing(w, number, entry.Size, ok: true);
            }
            else
            {
                session.Err("No such message"u8);
            }

            return Task.CompletedTask;
        }

        Pop3ResponseWriter.Ok(w, $"{maildrop.LiveCount} messages ({maildrop.LiveSize} octets)");
        for (var n = 1; n <= maildrop.Count; n++)
        {
            if (maildrop.TryGetLive(n, out var entry))
            {
                Pop3ResponseWriter.ScanListing(w, n, entry.Size, ok: false);
            }
        }

        Pop3ResponseWriter.EndMultiline(w);
        return Task.CompletedTask;
    }
}