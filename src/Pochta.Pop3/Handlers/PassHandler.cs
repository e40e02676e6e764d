using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §7 PASS: only directly after a successful USER. Unknown user and wrong
/// password get the same answer after the same delay (IAuthenticator equalises the time).</summary>
internal sealed class PassHandler : IPop3CommandHandler
{
    public async Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var name = session.PendingUser;
        session.PendingUser = null;
        if (!session.Connection.IsSecure)
        {
            session.Err(Pop3ResponseCode.Auth, "Plaintext authentication is not allowed before STLS"u8);
            return;
        }

        if (name is null)
        {
            session.Err("USER first"u8);
            return;
        }

        var user = await session.Services.Authenticator.VerifyPasswordAsync(name, ((PassCommand)command).Password, cancellationToken);
        if (user is null)
        {
            await session.FailAuthenticationAsync(cancellationToken);
            return;
        }

        await session.CompleteLoginAsync(user, cancellationToken);
    }
}