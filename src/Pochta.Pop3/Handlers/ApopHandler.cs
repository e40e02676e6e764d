using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §7 APOP needs the plaintext password (MD5 of timestamp + secret); Pochta stores
/// only salted verifiers (PBKDF2, SCRAM), so APOP cannot be served: the greeting carries no
/// timestamp, CAPA does not offer it, and the command is refused.</summary>
internal sealed class ApopHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        session.Err("APOP is not supported; use AUTH or USER/PASS"u8);
        return Task.CompletedTask;
    }
}