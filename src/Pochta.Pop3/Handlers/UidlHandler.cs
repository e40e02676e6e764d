using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §7 UIDL [msg]: unique-id listings (see <see cref="Maildrop.UniqueId"/>);
/// messages marked deleted are not listed.</summary>
internal sealed class UidlHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var maildrop = session.Maildrop!;
        var w = session.Writer;
        if (((ListingCommand)command).Message is { } number)
        {
            if (maildrop.TryGetLive(number, out _))
            {
                Pop3ResponseWriter.UniqueIdListing(w, number, maildrop.UniqueId(number), ok: true);
            }
            else
            {
                session.Err("No such message"u8);
            }

            return Task.CompletedTask;
        }

        session.Ok("Unique-ID listing follows"u8);
        for (var n = 1; n <= maildrop.Count; n++)
        {
            if (maildrop.TryGetLive(n, out _))
            {
                Pop3ResponseWriter.UniqueIdListing(w, n, maildrop.UniqueId(n), ok: false);
            }
        }

        Pop3ResponseWriter.EndMultiline(w);
        return Task.CompletedTask;
    }
}