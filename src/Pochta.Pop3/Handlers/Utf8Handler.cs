using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 6856 §2 UTF8: the client accepts UTF-8 in responses and message headers. Stored
/// messages are never downgraded, and USER/PASS arguments are read as UTF-8 in any case.</summary>
internal sealed class Utf8Handler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        session.Utf8Enabled = true;
        session.Ok("UTF8 enabled"u8);
        return Task.CompletedTask;
    }
}