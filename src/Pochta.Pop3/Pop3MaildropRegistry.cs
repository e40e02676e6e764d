using System.Collections.Concurrent;

namespace Pochta.Pop3;

/// <summary>
/// Process-wide POP3 bookkeeping: the maildrop lock of RFC 1939 §8 (one POP3 session per maildrop;
/// a second gets <c>-ERR [IN-USE]</c>, RFC 2449 §8.1.1) keyed by mailbox id, and the last login
/// time per account for LOGIN-DELAY (RFC 2449 §8.1.2). In-process: one node serves a mailbox.
/// </summary>
public sealed class Pop3MaildropRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<long, Lease> _locks = new();
    private readonly ConcurrentDictionary<long, DateTimeOffset> _lastLogin = new();

    /// <summary>Takes the maildrop lock, or null when another session holds it.</summary>
    public IDisposable? TryLock(long mailboxId)
    {
        var lease = new Lease(this, mailboxId);
        return _locks.TryAdd(mailboxId, lease) ? lease : null;
    }

    public bool IsLocked(long mailboxId) => _locks.ContainsKey(mailboxId);

    /// <summary>True when the account may log in now; records the login when it may.</summary>
    public bool TryRecordLogin(long accountId, TimeSpan minimumInterval)
    {
        var now = time.GetUtcNow();
        while (true)
        {
            if (_lastLogin.TryGetValue(accountId, out var last))
            {
                if (minimumInterval > TimeSpan.Zero && now - last < minimumInterval)
                {
                    return false;
                }

                if (_lastLogin.TryUpdate(accountId, now, last))
                {
                    return true;
                }
            }
            else if (_lastLogin.TryAdd(accountId, now))
            {
                return true;
            }
        }
    }

    private sealed class Lease(Pop3MaildropRegistry owner, long mailboxId) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner._locks.TryRemove(new KeyValuePair<long, Lease>(mailboxId, this));
            }
        }
    }
}