using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Pochta.Sasl;

/// <summary>
/// Remembers recently verified (credential, password) pairs, as Dovecot's auth cache does, so a
/// client that logs in often (POP3 polling, an IMAP client opening several connections) does
/// not cost a full PBKDF2 derivation (32,768 iterations) on every login. Contract:
/// <list type="bullet">
/// <item>Only successes are remembered: every failure still costs the full derivation, so an
/// unknown user and a wrong password stay indistinguishable in time.</item>
/// <item>The key is an HMAC, under a per-process random key, of the stored key and the password:
/// the cache holds neither, and a password change (a new StoredKey) never hits an old entry.</item>
/// <item>Entries expire after <see cref="Ttl"/>; the cache never holds more than its capacity
/// (when full it is emptied, which only costs derivations).</item>
/// </list>
/// </summary>
internal sealed class VerifiedPasswordCache(TimeProvider time, TimeSpan ttl, int capacity)
{
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(15);

    public const int DefaultCapacity = 10_000;

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _entries = new(StringComparer.Ordinal);

    public TimeSpan Ttl => ttl;

    /// <summary>Successful lookups (for tests and metrics).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    private long _hits;

    public bool Contains(ScramCredential credential, string password)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return false;
        }

        var key = Key(credential, password);
        if (!_entries.TryGetValue(key, out var expires))
        {
            return false;
        }

        if (expires <= time.GetUtcNow())
        {
            _entries.TryRemove(key, out _);
            return false;
        }

        Interlocked.Increment(ref _hits);
        return true;
    }

    public void Add(ScramCredential credential, string password)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }

        _entries[Key(credential, password)] = time.GetUtcNow() + ttl;
    }

    private string Key(ScramCredential credential, string password)
    {
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var input = new byte[credential.StoredKey.Length + passwordBytes.Length];
        credential.StoredKey.CopyTo(input, 0);
        passwordBytes.CopyTo(input, credential.StoredKey.Length);
        var mac = HMACSHA256.HashData(_key, input);
        CryptographicOperations.ZeroMemory(passwordBytes);
        CryptographicOperations.ZeroMemory(input);
        return Convert.ToBase64String(mac);
    }
}