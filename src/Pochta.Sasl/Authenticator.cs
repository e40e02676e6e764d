using System.Security.Cryptography;
using System.Text;

using Pochta.Storage;

namespace Pochta.Sasl;

/// <summary>
/// Password checks and SASL exchanges against the account directory. Unknown users, wrong
/// passwords and disabled accounts fail alike, after the same PBKDF2 work (a derivation
/// against a dummy credential for names without one). Nothing derived from a password is cached.
/// </summary>
public sealed class Authenticator : IAuthenticator
{
    // RFC 5321 §4.5.3.1: a path is at most 256 octets; anything longer cannot be an account.
    private const int MaxUsernameLength = 320;
    private const int ServerNonceBytes = 24;

    private static readonly string[] SecureMechanisms = [SaslMechanisms.ScramSha256, SaslMechanisms.Plain, SaslMechanisms.Login];
    private static readonly string[] InsecureMechanisms = [SaslMechanisms.ScramSha256];

    private readonly Func<IDirectoryStore> _directory;
    private readonly int _iterations;
    private readonly Func<string> _serverNonce;
    private readonly byte[] _fakeSaltKey = RandomNumberGenerator.GetBytes(32);
    private readonly ScramCredential _dummy;
    private readonly VerifiedPasswordCache _verified;

    public Authenticator(IMailStore store)
        : this(() => store.Directory, PasswordCredential.DefaultIterations, null)
    {
        ArgumentNullException.ThrowIfNull(store);
    }

    /// <summary>Test seam: a directory, the iteration count of the dummy/fake credentials (match
    /// the test credentials for equal work) and a fixed SCRAM server nonce (RFC 7677 §3 vector).</summary>
    internal Authenticator(IDirectoryStore directory, int iterations, Func<string>? serverNonce = null, VerifiedPasswordCache? verified = null)
        : this(() => directory, iterations, serverNonce, verified)
    {
    }

    private Authenticator(Func<IDirectoryStore> directory, int iterations, Func<string>? serverNonce, VerifiedPasswordCache? verified = null)
    {
        _directory = directory;
        _verified = verified ?? new VerifiedPasswordCache(TimeProvider.System, VerifiedPasswordCache.DefaultTtl, VerifiedPasswordCache.DefaultCapacity);
        _iterations = iterations;
        _serverNonce = serverNonce ?? NewServerNonce;
        _dummy = new ScramCredential(
            RandomNumberGenerator.GetBytes(PasswordCredential.SaltLength),
            iterations,
            RandomNumberGenerator.GetBytes(PasswordCredential.KeyLength),
            RandomNumberGenerator.GetBytes(PasswordCredential.KeyLength));
    }

    public IReadOnlyList<string> GetMechanisms(bool secure) => secure ? SecureMechanisms : InsecureMechanisms;

    public ISaslServer? CreateServer(string mechanism, bool secure)
    {
        ArgumentNullException.ThrowIfNull(mechanism);
        if (mechanism.Equals(SaslMechanisms.ScramSha256, StringComparison.OrdinalIgnoreCase))
        {
            return new ScramSha256Server(this, _serverNonce);
        }

        if (!secure)
        {
            return null;
        }

        if (mechanism.Equals(SaslMechanisms.Plain, StringComparison.OrdinalIgnoreCase))
        {
            return new PlainServer(this);
        }

        return mechanism.Equals(SaslMechanisms.Login, StringComparison.OrdinalIgnoreCase) ? new LoginServer(this) : null;
    }

    public async Task<AuthenticatedUser?> VerifyPasswordAsync(string username, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(password);
        var (credential, account, stored) = await LookupAsync(username, cancellationToken).ConfigureAwait(false);

        var allowed = credential is not null && account is { Disabled: false };
        if (allowed && _verified.Contains(credential!, password))
        {
            return new AuthenticatedUser(account!.Id, account.Address);
        }

        // Equal work: the dummy credential has the configured iteration count and never matches.
        var target = credential ?? _dummy;
        var matches = await Task.Run(() => target.Matches(password), cancellationToken).ConfigureAwait(false);
        if (!matches || !allowed)
        {
            return null;
        }

        _verified.Add(credential!, password);
        if (credential!.Iterations != _iterations)
        {
            await RehashAsync(account!.Address, stored!, password, cancellationToken).ConfigureAwait(false);
        }

        return new AuthenticatedUser(account!.Id, account.Address);
    }

    /// <summary>A credential made with another iteration count (600,000 before SCRAM clients'
    /// caps were known: Cyrus SASL refuses more than 65,536) is derived again with the configured
    /// count from the password just verified, once, and swapped in only if nobody changed it
    /// meanwhile. Best effort: the login succeeds whatever happens here, and the next one retries.</summary>
    private async Task RehashAsync(string address, string stored, string password, CancellationToken cancellationToken)
    {
        try
        {
            var replacement = await Task.Run(() => PasswordCredential.Create(password, _iterations), cancellationToken).ConfigureAwait(false);
            var swapped = await _directory().ReplaceCredentialAsync(address, stored, replacement, cancellationToken).ConfigureAwait(false);
            if (swapped && ScramCredential.TryParse(replacement, out var parsed))
            {
                // The password was just verified and the new verifiers derived from it.
                _verified.Add(parsed, password);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A store error (read-only, shutting down) or a password SASLprep now refuses (the
            // old credential matched it anyway): keep the old credential.
        }
    }

    /// <summary>Account names are canonical lower case in the directory.</summary>
    internal static string NormalizeUsername(string username) => username.ToLowerInvariant();

    /// <summary>The verifiers for a SCRAM exchange: the account's, or a fake with a salt stable
    /// per name (RFC 5802 §9: do not reveal which users exist) and a user of null.</summary>
    internal async Task<(ScramCredential Credential, AuthenticatedUser? User)> LookupScramAsync(string username, CancellationToken cancellationToken)
    {
        var (credential, account, _) = await LookupAsync(username, cancellationToken).ConfigureAwait(false);
        if (credential is not null && account is { Disabled: false })
        {
            return (credential, new AuthenticatedUser(account.Id, account.Address));
        }

        var name = Encoding.UTF8.GetBytes(NormalizeUsername(username));
        var salt = HMACSHA256.HashData(_fakeSaltKey, name)[..PasswordCredential.SaltLength];
        var fake = new ScramCredential(salt, _iterations, _dummy.StoredKey, _dummy.ServerKey);
        return (fake, null);
    }

    private async Task<(ScramCredential? Credential, AccountInfo? Account, string? Stored)> LookupAsync(string username, CancellationToken cancellationToken)
    {
        var name = NormalizeUsername(username);
        if (name.Length == 0 || name.Length > MaxUsernameLength || name.AsSpan().ContainsAnyInRange('\0', '\u001F'))
        {
            return (null, null, null);
        }

        var directory = _directory();

        // Both lookups run for every name so known and unknown users cost the same round trips.
        var text = await directory.GetCredentialAsync(name, cancellationToken).ConfigureAwait(false);
        var account = await directory.FindAccountAsync(name, cancellationToken).ConfigureAwait(false);
        return text is not null && ScramCredential.TryParse(text, out var credential) ? (credential, account, text) : (null, account, null);
    }

    private static string NewServerNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(ServerNonceBytes));
}