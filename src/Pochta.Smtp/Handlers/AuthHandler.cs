using System.Buffers.Text;
using System.Text;

using Pochta.Sasl;
using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Handlers;

/// <summary>
/// RFC 4954 AUTH: base64 and <c>*</c> are handled here, the mechanism is a byte state machine
/// from <see cref="IAuthenticator"/>. Only over a secure connection. Failures are delayed and
/// counted; after the limit the connection is closed. Nothing of the exchange is logged.
/// </summary>
internal sealed class AuthHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        var auth = (SmtpAuthCommand)command;
        if (session.User is not null)
        {
            session.Reply(SmtpReplies.AlreadyAuthenticated);
            return true;
        }

        if (!session.Extended)
        {
            session.Reply(SmtpReplies.BadSequence);
            return true;
        }

        if (!session.Connection.IsSecure)
        {
            session.Reply(SmtpReplies.TlsRequired);
            return true;
        }

        var server = session.Context.Authenticator.GetMechanisms(true).Contains(auth.Mechanism, StringComparer.Ordinal)
            ? session.Context.Authenticator.CreateServer(auth.Mechanism, session.Connection.IsSecure)
            : null;
        if (server is null)
        {
            session.Reply(SmtpReplies.UnknownMechanism);
            return true;
        }

        // RFC 4954 §4: "=" is an empty initial response; absent means the exchange starts empty.
        byte[] message;
        if (auth.InitialResponse is null or "=")
        {
            message = [];
        }
        else if (!TryDecode(Encoding.ASCII.GetBytes(auth.InitialResponse), out message))
        {
            session.Reply(SmtpReplies.AuthMalformed);
            return true;
        }

        var limit = session.Context.Options.MaxAuthLineLength;
        while (true)
        {
            var step = await server.StepAsync(message, cancellationToken);
            switch (step.Kind)
            {
                case SaslStepKind.Continue:
                    session.Reply(new SmtpReply(334, null, Convert.ToBase64String(step.Data.Span)));
                    var (line, tooLong) = await session.ReadLineAsync(limit, cancellationToken);
                    if (tooLong)
                    {
                        session.Reply(SmtpReplies.AuthLineTooLong);
                        return true;
                    }

                    if (line is null)
                    {
                        return false;
                    }

                    if (line.AsSpan().SequenceEqual("*"u8))
                    {
                        session.Reply(SmtpReplies.AuthCancelled);
                        return true;
                    }

                    if (!TryDecode(line, out message))
                    {
                        session.Reply(SmtpReplies.AuthMalformed);
                        return true;
                    }

                    continue;

                case SaslStepKind.Success:
                    if (!step.Data.IsEmpty)
                    {
                        // RFC 4954 §4: additional data with success goes in a 334 and the client
                        // answers with an empty line.
                        session.Reply(new SmtpReply(334, null, Convert.ToBase64String(step.Data.Span)));
                        var (ack, ackTooLong) = await session.ReadLineAsync(limit, cancellationToken);
                        if (ack is null && !ackTooLong)
                        {
                            return false;
                        }

                        if (ack is not { Length: 0 })
                        {
                            session.Reply(ack is [(byte)'*'] ? SmtpReplies.AuthCancelled : SmtpReplies.AuthMalformed);
                            return true;
                        }
                    }

                    session.User = step.User;
                    session.Reply(SmtpReplies.AuthOk);
                    return true;

                case SaslStepKind.Malformed:
                    session.Reply(SmtpReplies.AuthMalformed);
                    return true;

                default:
                    return await FailAsync(session, cancellationToken);
            }
        }
    }

    private static async ValueTask<bool> FailAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        var options = session.Context.Options;
        session.AuthFailures++;
        await session.FlushAsync(cancellationToken);
        if (options.AuthFailureDelay > TimeSpan.Zero)
        {
            await Task.Delay(options.AuthFailureDelay * session.AuthFailures, session.Context.Time, cancellationToken);
        }

        session.Reply(SmtpReplies.AuthFailed);
        if (session.AuthFailures >= options.MaxAuthFailures)
        {
            session.Reply(SmtpReplies.TooManyAuthFailures);
            return false;
        }

        return true;
    }

    private static bool TryDecode(ReadOnlySpan<byte> base64, out byte[] decoded)
    {
        decoded = [];
        if (base64.IsEmpty)
        {
            return true;
        }

        var buffer = new byte[Base64.GetMaxDecodedFromUtf8Length(base64.Length)];
        if (Base64.DecodeFromUtf8(base64, buffer, out var consumed, out var written) != System.Buffers.OperationStatus.Done || consumed != base64.Length)
        {
            return false;
        }

        decoded = buffer[..written];
        return true;
    }
}