using System.Buffers.Text;
using System.Text;

using Pochta.Pop3.Protocol;
using Pochta.Sasl;

namespace Pochta.Pop3.Handlers;

/// <summary>
/// RFC 5034 AUTH mechanism [initial-response]. Challenges are <c>+ base64</c>; the client answers
/// with a base64 line or <c>*</c> to cancel (then -ERR). An initial response of <c>=</c> is empty.
/// POP3 has no "additional data with success", so a final server message (SCRAM server-final) is
/// sent as one more challenge whose answer must be empty (RFC 4422 §3.6), then +OK.
/// </summary>
internal sealed class AuthHandler : IPop3CommandHandler
{
    public async Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var auth = (AuthCommand)command;
        var secure = session.Connection.IsSecure;
        var authenticator = session.Services.Authenticator;
        if (auth.Mechanism is null)
        {
            // Bare AUTH lists the mechanisms (RFC 1734 practice; leniency for Outlook-era clients).
            session.Ok("Supported mechanisms follow"u8);
            foreach (var mechanism in authenticator.GetMechanisms(secure))
            {
                Pop3ResponseWriter.Line(session.Writer, mechanism);
            }

            Pop3ResponseWriter.EndMultiline(session.Writer);
            return;
        }

        var sasl = authenticator.CreateServer(auth.Mechanism, secure);
        if (sasl is null)
        {
            session.Err("Unsupported authentication mechanism"u8);
            return;
        }

        // ISaslServer takes an empty first message as "no initial response", so "=" (an empty
        // initial response, RFC 5034 §4) reaches the mechanism the same way.
        byte[] message = [];
        if (auth.InitialResponse is { } initial && initial != "=")
        {
            if (Decode(Encoding.ASCII.GetBytes(initial)) is not { } decoded)
            {
                session.Err("Invalid base64"u8);
                return;
            }

            message = decoded;
        }

        while (true)
        {
            var step = await sasl.StepAsync(message, cancellationToken);
            switch (step.Kind)
            {
                case SaslStepKind.Continue:
                    {
                        Pop3ResponseWriter.Continuation(session.Writer, step.Data.Span);
                        if (await ReadResponseAsync(session, cancellationToken) is not { } next)
                        {
                            return;
                        }

                        message = next;
                        continue;
                    }

                case SaslStepKind.Success:
                    if (!step.Data.IsEmpty)
                    {
                        Pop3ResponseWriter.Continuation(session.Writer, step.Data.Span);
                        if (await ReadResponseAsync(session, cancellationToken) is not { } final)
                        {
                            return;
                        }

                        if (final.Length != 0)
                        {
                            await session.FailAuthenticationAsync(cancellationToken);
                            return;
                        }
                    }

                    await session.CompleteLoginAsync(step.User!, cancellationToken);
                    return;

                default:
                    // Failure and Malformed look the same to the client.
                    await session.FailAuthenticationAsync(cancellationToken);
                    return;
            }
        }
    }

    /// <summary>The decoded client response; null after answering a cancel, bad base64 or a lost connection.</summary>
    private static async Task<byte[]?> ReadResponseAsync(Pop3Session session, CancellationToken cancellationToken)
    {
        if (await session.ReadSaslLineAsync(cancellationToken) is not { } line)
        {
            session.CloseRequested = true;
            return null;
        }

        switch (line.Status)
        {
            case SaslLineStatus.Line when line.Line is [(byte)'*']:
                session.Err("Authentication cancelled"u8);
                return null;
            case SaslLineStatus.Line:
                if (Decode(line.Line) is { } decoded)
                {
                    return decoded;
                }

                session.Err("Invalid base64"u8);
                return null;
            case SaslLineStatus.TooLong:
                session.Err("Response too long"u8);
                return null;
            default:
                session.Err("Response too long"u8);
                session.CloseRequested = true;
                return null;
        }
    }

    private static byte[]? Decode(ReadOnlySpan<byte> base64)
    {
        if (base64.IsEmpty)
        {
            return [];
        }

        var output = new byte[Base64.GetMaxDecodedFromUtf8Length(base64.Length)];
        var status = Base64.DecodeFromUtf8(base64, output, out var consumed, out var written);
        return status == System.Buffers.OperationStatus.Done && consumed == base64.Length ? output[..written] : null;
    }
}