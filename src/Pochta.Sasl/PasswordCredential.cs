using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pochta.Sasl;

/// <summary>
/// The opaque credential string the directory stores for an account: SCRAM-SHA-256 verifiers
/// (RFC 5802 §3, RFC 7677), never the password. Format:
/// <c>SCRAM-SHA-256$iterations$base64(salt)$base64(StoredKey)$base64(ServerKey)</c>.
/// The same verifiers serve SCRAM (no password on the wire) and PLAIN/LOGIN/USER-PASS
/// (the server re-derives StoredKey from the password). CRAM-MD5 cannot be served from them.
/// </summary>
public static class PasswordCredential
{
    /// <summary>The scheme tag at the start of every credential this class creates.</summary>
    public const string Scheme = "SCRAM-SHA-256";

    /// <summary>PBKDF2-SHA256 iterations for new credentials. The count is sent to SCRAM clients
    /// (RFC 5802 §5.1 i=), and clients cap it against a hostile server (RFC 5802 §9): Cyrus SASL
    /// (mbsync, mutt, Postfix's SMTP client) refuses more than 65,536, WildFly/Java SASL more than
    /// 32,768. So the default is that largest widely accepted count: 8× RFC 7677's 4,096 minimum
    /// (Dovecot's and Cyrus's default), below OWASP's 600,000 for stored PBKDF2, which SCRAM
    /// clients would refuse.</summary>
    public const int DefaultIterations = 32_768;

    /// <summary>Upper bound accepted when parsing, so a corrupt record cannot stall a login.</summary>
    public const int MaxIterations = 10_000_000;

    internal const int SaltLength = 16;
    internal const int KeyLength = 32; // SHA-256 output

    /// <summary>Creates a credential for <paramref name="password"/> with a fresh random salt.</summary>
    /// <param name="iterations">PBKDF2 iteration count. Keep the default in production; tests
    /// pass a small value for speed.</param>
    /// <exception cref="ArgumentException">The password is empty or contains characters SASLprep
    /// (RFC 4013 §2.3) prohibits.</exception>
    public static string Create(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltLength);
        return Create(password, salt, iterations);
    }

    /// <summary>Creates a credential with a given salt (test vectors).</summary>
    internal static string Create(string password, byte[] salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterations);
        var prepared = SaslPrep.Prepare(password);
        if (string.IsNullOrEmpty(prepared))
        {
            throw new ArgumentException("The password is empty or contains prohibited characters.", nameof(password));
        }

        var credential = ScramCredential.Derive(prepared, salt, iterations);
        return credential.ToString();
    }

    /// <summary>True when <paramref name="password"/> matches <paramref name="credential"/>.
    /// Runs the full PBKDF2 derivation (CPU-bound: call it off the I/O thread) and compares
    /// in constant time. A malformed credential never matches.</summary>
    public static bool Verify(string credential, string password)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(password);
        return ScramCredential.TryParse(credential, out var parsed) && parsed.Matches(password);
    }

    /// <summary>The iteration count recorded in a credential, or null when it is not one of ours.</summary>
    public static int? GetIterations(string credential) =>
        ScramCredential.TryParse(credential, out var parsed) ? parsed.Iterations : null;
}

/// <summary>Parsed SCRAM-SHA-256 verifiers (RFC 5802 §3).</summary>
internal sealed class ScramCredential
{
    private static readonly byte[] ClientKeyLabel = "Client Key"u8.ToArray();
    private static readonly byte[] ServerKeyLabel = "Server Key"u8.ToArray();

    public ScramCredential(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey)
    {
        Salt = salt;
        Iterations = iterations;
        StoredKey = storedKey;
        ServerKey = serverKey;
    }

    public byte[] Salt { get; }

    public int Iterations { get; }

    public byte[] StoredKey { get; }

    public byte[] ServerKey { get; }

    /// <summary>SaltedPassword = Hi(Normalize(password), salt, i); ClientKey = HMAC(SaltedPassword,
    /// "Client Key"); StoredKey = H(ClientKey); ServerKey = HMAC(SaltedPassword, "Server Key").</summary>
    public static ScramCredential Derive(string preparedPassword, byte[] salt, int iterations)
    {
        Span<byte> salted = stackalloc byte[PasswordCredential.KeyLength];
        Span<byte> clientKey = stackalloc byte[PasswordCredential.KeyLength];
        try
        {
            SaltPassword(preparedPassword, salt, iterations, salted);
            HMACSHA256.HashData(salted, ClientKeyLabel, clientKey);
            var storedKey = SHA256.HashData(clientKey);
            var serverKey = HMACSHA256.HashData(salted, ServerKeyLabel);
            return new ScramCredential(salt, iterations, storedKey, serverKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(salted);
            CryptographicOperations.ZeroMemory(clientKey);
        }
    }

    /// <summary>Re-derives StoredKey from a password and compares in constant time. A password
    /// SASLprep prohibits still costs the full derivation, then fails.</summary>
    public bool Matches(string password)
    {
        var prepared = SaslPrep.Prepare(password);
        var valid = !string.IsNullOrEmpty(prepared);
        Span<byte> salted = stackalloc byte[PasswordCredential.KeyLength];
        Span<byte> clientKey = stackalloc byte[PasswordCredential.KeyLength];
        Span<byte> storedKey = stackalloc byte[PasswordCredential.KeyLength];
        try
        {
            SaltPassword(valid ? prepared! : password, Salt, Iterations, salted);
            HMACSHA256.HashData(salted, ClientKeyLabel, clientKey);
            SHA256.HashData(clientKey, storedKey);
            return CryptographicOperations.FixedTimeEquals(storedKey, StoredKey) & valid;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(salted);
            CryptographicOperations.ZeroMemory(clientKey);
        }
    }

    private static void SaltPassword(string password, byte[] salt, int iterations, Span<byte> destination)
    {
        var bytes = Encoding.UTF8.GetBytes(password);
        try
        {
            Rfc2898DeriveBytes.Pbkdf2(bytes, salt, destination, iterations, HashAlgorithmName.SHA256);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ScramCredential? credential)
    {
        credential = null;
        ReadOnlySpan<char> rest = text;
        if (!TakeField(ref rest, out var scheme) || !scheme.SequenceEqual(PasswordCredential.Scheme)
            || !TakeField(ref rest, out var iterationsText) || !TakeField(ref rest, out var saltText)
            || !TakeField(ref rest, out var storedText) || rest.Contains('$'))
        {
            return false;
        }

        if (iterationsText.IsEmpty || iterationsText[0] == '0'
            || !int.TryParse(iterationsText, NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations > PasswordCredential.MaxIterations)
        {
            return false;
        }

        var salt = DecodeBase64(saltText);
        var stored = DecodeBase64(storedText);
        var server = DecodeBase64(rest);
        if (salt is not { Length: > 0 } || stored is not { Length: PasswordCredential.KeyLength }
            || server is not { Length: PasswordCredential.KeyLength })
        {
            return false;
        }

        credential = new ScramCredential(salt, iterations, stored, server);
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{PasswordCredential.Scheme}${Iterations}${Convert.ToBase64String(Salt)}${Convert.ToBase64String(StoredKey)}${Convert.ToBase64String(ServerKey)}");

    private static bool TakeField(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> field)
    {
        var end = rest.IndexOf('$');
        if (end < 0)
        {
            field = default;
            return false;
        }

        field = rest[..end];
        rest = rest[(end + 1)..];
        return true;
    }

    private static byte[]? DecodeBase64(ReadOnlySpan<char> text)
    {
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        return Convert.TryFromBase64Chars(text, buffer, out var written) ? buffer[..written] : null;
    }
}