using System.Buffers.Text;
using System.Text;

using Pochta.Hosting;
using Pochta.Imap.Protocol;
using Pochta.Sasl;

namespace Pochta.Imap.Handlers;

/// <summary>RFC 9051 §6.2.1 STARTTLS via the one shared upgrade routine (MailConnection.StartTlsAsync).</summary>
internal sealed class StartTlsHandler : CommandHandler<StartTlsCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, StartTlsCommand command, CancellationToken cancellationToken)
    {
        if (!session.Connection.CanStartTls)
        {
            return CommandResult.Bad("TLS is not available");
        }

        await session.FlushAsync(cancellationToken);
        var ready = Encoding.ASCII.GetBytes(command.Tag + " OK Begin TLS negotiation now\r\n");
        var result = await session.Connection.StartTlsAsync(ready, cancellationToken);
        if (result != TlsUpgradeResult.Success)
        {
            // Pipelined plaintext after STARTTLS (CVE-2011-0411 class) or a failed handshake: close.
            session.EndLogout();
            return CommandResult.AlreadySent;
        }

        // RFC 9051 §6.2.1: the client must discard cached capabilities; the reader starts fresh.
        session.RefreshTransport();
        return CommandResult.AlreadySent;
    }
}

/// <summary>Shared success/failure handling for LOGIN and AUTHENTICATE.</summary>
internal static class LoginOutcome
{
    public static CommandResult Succeeded(ImapSession session, AuthenticatedUser user)
    {
        session.SetAuthenticated(user);
        return CommandResult.Ok("Logged in", "CAPABILITY " + Capabilities.Build(session));
    }

    /// <summary>Failed logins are answered after a delay; after too many the connection closes.</summary>
    public static async Task<CommandResult> FailedAsync(ImapSession session, string tag, CancellationToken cancellationToken)
    {
        session.FailedLogins++;
        var delay = session.Services.Options.FailedLoginDelay;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, session.Services.Time, cancellationToken);
        }

        if (session.FailedLogins >= session.Services.Options.MaxFailedLogins)
        {
            session.Writer.Tagged(tag, ImapStatus.No, "AUTHENTICATIONFAILED", "Authentication failed");
            session.Writer.UntaggedStatus(ImapStatus.Bye, null, "Too many failed authentications");
            session.EndLogout();
            return CommandResult.AlreadySent;
        }

        return CommandResult.No("Authentication failed", "AUTHENTICATIONFAILED");
    }
}

/// <summary>RFC 9051 §6.2.3 LOGIN; refused before TLS (LOGINDISABLED) unless the connection is secure.</summary>
internal sealed class LoginHandler : CommandHandler<LoginCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, LoginCommand command, CancellationToken cancellationToken)
    {
        if (!session.Connection.IsSecure)
        {
            return CommandResult.No("Plaintext login is disabled before TLS", "PRIVACYREQUIRED");
        }

        var user = await session.Services.Authenticator.VerifyPasswordAsync(command.UserName, command.Password, cancellationToken);
        return user is null
            ? await LoginOutcome.FailedAsync(session, command.Tag, cancellationToken)
            : LoginOutcome.Succeeded(session, user);
    }
}

/// <summary>RFC 9051 §6.2.2 AUTHENTICATE with RFC 4959 SASL-IR. The mechanism is a byte state
/// machine (Pochta.Sasl); this handler does base64, "+ " challenges and the "*" cancel.</summary>
internal sealed class AuthenticateHandler : CommandHandler<AuthenticateCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, AuthenticateCommand command, CancellationToken cancellationToken)
    {
        var secure = session.Connection.IsSecure;
        var sasl = session.Services.Authenticator.CreateServer(command.Mechanism, secure);
        if (sasl is null)
        {
            return session.Services.Authenticator.GetMechanisms(true).Contains(command.Mechanism, StringComparer.OrdinalIgnoreCase)
                ? CommandResult.No("Mechanism not allowed before TLS", "PRIVACYREQUIRED")
                : CommandResult.No("Unsupported authentication mechanism", "CANNOT");
        }

        byte[] clientMessage;
        if (command.InitialResponse is { } ir)
        {
            // RFC 4959 §3: "=" is an empty initial response.
            if (!TryDecode(ir == "=" ? string.Empty : ir, out clientMessage))
            {
                return CommandResult.Bad("Invalid base64 data");
            }
        }
        else
        {
            clientMessage = [];
        }

        var first = command.InitialResponse is null;
        while (true)
        {
            SaslStep step;
            if (first)
            {
                // No initial response: an empty challenge asks for it (RFC 4422 §3.3).
                step = await sasl.StepAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
                first = false;
            }
            else
            {
                step = await sasl.StepAsync(clientMessage, cancellationToken);
            }

            switch (step.Kind)
            {
                case SaslStepKind.Success:
                    if (!step.Data.IsEmpty)
                    {
                        // RFC 9051 §6.2.2: additional data with success goes in a challenge, answered empty.
                        session.Writer.ContinuationBase64(step.Data.Span);
                        await session.FlushAsync(cancellationToken);
                        var ack = await session.ReadLineAsync(cancellationToken);
                        if (ack.Length != 0)
                        {
                            return ack is [(byte)'*'] ? CommandResult.Bad("Authentication cancelled") : await LoginOutcome.FailedAsync(session, command.Tag, cancellationToken);
                        }
                    }

                    return LoginOutcome.Succeeded(session, step.User!);
                case SaslStepKind.Failure:
                    return await LoginOutcome.FailedAsync(session, command.Tag, cancellationToken);
                case SaslStepKind.Malformed:
                    return CommandResult.Bad("Invalid authentication exchange");
                default:
                    session.Writer.ContinuationBase64(step.Data.Span);
                    await session.FlushAsync(cancellationToken);
                    var line = await session.ReadLineAsync(cancellationToken);
                    if (line is [(byte)'*'])
                    {
                        // RFC 9051 §6.2.2: the client cancels with "*".
                        return CommandResult.Bad("Authentication cancelled");
                    }

                    if (!TryDecode(Encoding.ASCII.GetString(line), out clientMessage))
                    {
                        return CommandResult.Bad("Invalid base64 data");
                    }

                    break;
            }
        }
    }

    private static bool TryDecode(string text, out byte[] data)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        data = new byte[Base64.GetMaxDecodedFromUtf8Length(bytes.Length)];
        var status = Base64.DecodeFromUtf8(bytes, data, out _, out var written);
        if (status != System.Buffers.OperationStatus.Done)
        {
            data = [];
            return false;
        }

        data = data[..written];
        return true;
    }
}

/// <summary>RFC 8437 UNAUTHENTICATE.</summary>
internal sealed class UnauthenticateHandler : CommandHandler<UnauthenticateCommand>
{
    protected override Task<CommandResult> ExecuteAsync(ImapSession session, UnauthenticateCommand command, CancellationToken cancellationToken)
    {
        session.ResetToNotAuthenticated();
        return Task.FromResult(CommandResult.Ok("Unauthenticated"));
    }
}