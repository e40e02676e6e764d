namespace Pochta.Sasl;

/// <summary>PLAIN (RFC 4616): one message <c>[authzid] NUL authcid NUL passwd</c>.</summary>
internal sealed class PlainServer(Authenticator authenticator) : ISaslServer
{
    // RFC 4616 §2: the server MUST accept at least 255 octets per field; this bounds the whole message.
    private const int MaxMessageLength = 2048;

    private bool _challenged;
    private bool _done;

    public string Mechanism => SaslMechanisms.Plain;

    public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientMessage, CancellationToken cancellationToken)
    {
        if (_done)
        {
            return new SaslStep(SaslStepKind.Malformed, default, null);
        }

        if (clientMessage.IsEmpty && !_challenged)
        {
            // No initial response: RFC 4616 §2 — the server sends an empty challenge.
            _challenged = true;
            return new SaslStep(SaslStepKind.Continue, default, null);
        }

        _done = true;
        if (!TryParse(clientMessage.Span, out var authzid, out var authcid, out var password))
        {
            return new SaslStep(SaslStepKind.Malformed, default, null);
        }

        // RFC 4616 §2: authzid empty means "act as authcid"; Pochta grants no proxy rights, so
        // any other identity is an authorisation failure.
        if (authzid.Length != 0 && !string.Equals(Authenticator.NormalizeUsername(authzid), Authenticator.NormalizeUsername(authcid), StringComparison.Ordinal))
        {
            return new SaslStep(SaslStepKind.Failure, default, null);
        }

        var user = await authenticator.VerifyPasswordAsync(authcid, password, cancellationToken).ConfigureAwait(false);
        return user is null
            ? new SaslStep(SaslStepKind.Failure, default, null)
            : new SaslStep(SaslStepKind.Success, default, user);
    }

    internal static bool TryParse(ReadOnlySpan<byte> message, out string authzid, out string authcid, out string password)
    {
        authzid = authcid = password = string.Empty;
        if (message.Length > MaxMessageLength)
        {
            return false;
        }

        var first = message.IndexOf((byte)0);
        if (first < 0)
        {
            return false;
        }

        var afterFirst = message[(first + 1)..];
        var second = afterFirst.IndexOf((byte)0);
        if (second < 0)
        {
            return false;
        }

        var passwordBytes = afterFirst[(second + 1)..];
        var authcidBytes = afterFirst[..second];
        if (authcidBytes.IsEmpty || passwordBytes.IsEmpty || passwordBytes.Contains((byte)0))
        {
            return false;
        }

        return SaslText.TryDecodeUtf8(message[..first], out authzid)
            && SaslText.TryDecodeUtf8(authcidBytes, out authcid)
            && SaslText.TryDecodeUtf8(passwordBytes, out password);
    }
}