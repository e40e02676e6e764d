using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pochta.Sasl;

/// <summary>
/// SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: the gs2 header is <c>n,,</c>
/// or <c>y,,</c> (optionally with <c>a=</c> equal to the user); <c>p=</c> is refused since
/// SCRAM-SHA-256-PLUS is never advertised. Unknown, disabled and known users get the same
/// server-first message shape (a stable fake salt for unknown names, RFC 5802 §9) and fail
/// only at the proof, in the same work.
/// </summary>
internal sealed class ScramSha256Server : ISaslServer
{
    private const int MaxMessageLength = 4096;

    private readonly Authenticator _authenticator;
    private readonly Func<string> _serverNonce;

    private State _state = State.ClientFirst;
    private byte[] _gs2Header = [];
    private string _clientFirstBare = string.Empty;
    private string _serverFirst = string.Empty;
    private string _nonce = string.Empty;
    private ScramCredential? _credential;
    private AuthenticatedUser? _user;

    public ScramSha256Server(Authenticator authenticator, Func<string> serverNonce)
    {
        _authenticator = authenticator;
        _serverNonce = serverNonce;
    }

    private enum State
    {
        ClientFirst,
        ClientFinal,
        Done,
    }

    public string Mechanism => SaslMechanisms.ScramSha256;

    public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientMessage, CancellationToken cancellationToken)
    {
        switch (_state)
        {
            case State.ClientFirst when clientMessage.IsEmpty:
                // RFC 5802 §5: the client sends first; answer an empty initial response with an
                // empty challenge so it can do so (RFC 4422 §5).
                return new SaslStep(SaslStepKind.Continue, default, null);
            case State.ClientFirst:
                return await ClientFirstAsync(clientMessage, cancellationToken).ConfigureAwait(false);
            case State.ClientFinal:
                return ClientFinal(clientMessage.Span);
            default:
                return Malformed();
        }
    }

    private async ValueTask<SaslStep> ClientFirstAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (message.Length > MaxMessageLength || !SaslText.TryDecodeUtf8(message.Span, out var text))
        {
            return Malformed();
        }

        // RFC 5802 §7: gs2-header = gs2-cbind-flag "," [ authzid ] ","
        ReadOnlySpan<char> rest = text;
        if (rest.Length < 3 || rest[1] != ',' || (rest[0] != 'n' && rest[0] != 'y'))
        {
            // "p=..." asks for channel binding, which this server does not offer.
            return Malformed();
        }

        rest = rest[2..];
        var authzidEnd = rest.IndexOf(',');
        if (authzidEnd < 0)
        {
            return Malformed();
        }

        string? authzid = null;
        if (authzidEnd > 0)
        {
            if (!rest.StartsWith("a=", StringComparison.Ordinal) || !TryDecodeSaslName(rest[2..authzidEnd], out authzid))
            {
                return Malformed();
            }
        }

        var headerLength = text.Length - rest.Length + authzidEnd + 1;
        _gs2Header = Encoding.UTF8.GetBytes(text[..headerLength]);
        _clientFirstBare = text[headerLength..];

        // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
        ReadOnlySpan<char> bare = _clientFirstBare;
        if (!TakeAttribute(ref bare, 'n', out var usernameText) || !TryDecodeSaslName(usernameText, out var username)
            || !TakeAttribute(ref bare, 'r', out var clientNonce) || clientNonce.IsEmpty || !IsPrintable(clientNonce))
        {
            // Also covers "m=" (a mandatory extension, RFC 5802 §5.1): none is supported.
            return Malformed();
        }

        var clientNonceText = clientNonce.ToString();
        if (authzid is not null
            && !string.Equals(Authenticator.NormalizeUsername(authzid), Authenticator.NormalizeUsername(username), StringComparison.Ordinal))
        {
            _state = State.Done;
            return new SaslStep(SaslStepKind.Failure, default, null);
        }

        (_credential, _user) = await _authenticator.LookupScramAsync(username, cancellationToken).ConfigureAwait(false);
        _nonce = clientNonceText + _serverNonce();
        _serverFirst = string.Create(CultureInfo.InvariantCulture,
            $"r={_nonce},s={Convert.ToBase64String(_credential.Salt)},i={_credential.Iterations}");
        _state = State.ClientFinal;
        return new SaslStep(SaslStepKind.Continue, Encoding.UTF8.GetBytes(_serverFirst), null);
    }

    private SaslStep ClientFinal(ReadOnlySpan<byte> message)
    {
        if (message.Length > MaxMessageLength || !SaslText.TryDecodeUtf8(message, out var text))
        {
            return Malformed();
        }

        // client-final-message = channel-binding "," nonce ["," extensions] "," proof
        var proofStart = text.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofStart < 0)
        {
            return Malformed();
        }

        var withoutProof = text[..proofStart];
        var proof = DecodeBase64(text.AsSpan(proofStart + 3));
        ReadOnlySpan<char> rest = withoutProof;
        if (proof is not { Length: PasswordCredential.KeyLength }
            || !TakeAttribute(ref rest, 'c', out var binding) || !TakeAttribute(ref rest, 'r', out var nonce))
        {
            return Malformed();
        }

        // RFC 5802 §5.1: c= is base64(gs2-header) when no channel binding is in use, and r=
        // must repeat the combined nonce exactly.
        var bindingBytes = DecodeBase64(binding);
        if (bindingBytes is null || !bindingBytes.AsSpan().SequenceEqual(_gs2Header)
            || !nonce.SequenceEqual(_nonce))
        {
            return Malformed();
        }

        _state = State.Done;
        var credential = _credential!;
        var authMessage = Encoding.UTF8.GetBytes(string.Concat(_clientFirstBare, ",", _serverFirst, ",", withoutProof));

        // RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); check H(ClientKey) = StoredKey.
        Span<byte> signature = stackalloc byte[PasswordCredential.KeyLength];
        Span<byte> storedKey = stackalloc byte[PasswordCredential.KeyLength];
        HMACSHA256.HashData(credential.StoredKey, authMessage, signature);
        for (var i = 0; i < signature.Length; i++)
        {
            signature[i] ^= proof[i];
        }

        SHA256.HashData(signature, storedKey);
        CryptographicOperations.ZeroMemory(signature);
        var proofValid = CryptographicOperations.FixedTimeEquals(storedKey, credential.StoredKey);
        if (!proofValid || _user is null)
        {
            return new SaslStep(SaslStepKind.Failure, default, null);
        }

        // server-final-message = "v=" base64(HMAC(ServerKey, AuthMessage))
        var serverSignature = HMACSHA256.HashData(credential.ServerKey, authMessage);
        var final = Encoding.ASCII.GetBytes("v=" + Convert.ToBase64String(serverSignature));
        return new SaslStep(SaslStepKind.Success, final, _user);
    }

    private SaslStep Malformed()
    {
        _state = State.Done;
        return new SaslStep(SaslStepKind.Malformed, default, null);
    }

    /// <summary>Takes <c>name=value</c> up to the next comma; false when the next attribute is another.</summary>
    private static bool TakeAttribute(ref ReadOnlySpan<char> rest, char name, out ReadOnlySpan<char> value)
    {
        value = default;
        if (rest.Length < 2 || rest[0] != name || rest[1] != '=')
        {
            return false;
        }

        var end = rest.IndexOf(',');
        value = end < 0 ? rest[2..] : rest[2..end];
        rest = end < 0 ? [] : rest[(end + 1)..];
        return true;
    }

    /// <summary>saslname (RFC 5802 §7): "=2C" is ',' and "=3D" is '='; any other '=' is invalid.</summary>
    internal static bool TryDecodeSaslName(ReadOnlySpan<char> encoded, out string name)
    {
        name = string.Empty;
        if (encoded.IsEmpty)
        {
            return false;
        }

        var builder = new StringBuilder(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '=')
            {
                if (i + 2 >= encoded.Length)
                {
                    return false;
                }

                var code = encoded.Slice(i + 1, 2);
                if (code.SequenceEqual("2C"))
                {
                    builder.Append(',');
                }
                else if (code.SequenceEqual("3D"))
                {
                    builder.Append('=');
                }
                else
                {
                    return false;
                }

                i += 2;
            }
            else if (c is '\0' or ',')
            {
                return false;
            }
            else
            {
                builder.Append(c);
            }
        }

        name = builder.ToString();
        return true;
    }

    private static bool IsPrintable(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (c is < (char)0x21 or > (char)0x7E or ',')
            {
                return false;
            }
        }

        return true;
    }

    private static byte[]? DecodeBase64(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.ContainsAny(" \t\r\n"))
        {
            return null;
        }

        var buffer = new byte[(text.Length * 3 / 4) + 3];
        return Convert.TryFromBase64Chars(text, buffer, out var written) ? buffer[..written] : null;
    }
}