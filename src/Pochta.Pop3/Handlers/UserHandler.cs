using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §7 USER. Refused on a connection that is not secure (DESIGN §8: no password
/// before TLS unless loopback is configured as secure); USER is then not advertised in CAPA either.
/// The reply never says whether the name exists.</summary>
internal sealed class UserHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        if (!session.Connection.IsSecure)
        {
            session.PendingUser = null;
            session.Err(Pop3ResponseCode.Auth, "Plaintext authentication is not allowed before STLS"u8);
            return Task.CompletedTask;
        }

        session.PendingUser = ((UserCommand)command).Name;
        session.Ok("Send PASS"u8);
        return Task.CompletedTask;
    }
}