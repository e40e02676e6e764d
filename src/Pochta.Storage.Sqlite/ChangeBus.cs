using System.Collections.Concurrent;
using System.Collections.Immutable;

using Microsoft.Extensions.Logging;

namespace Pochta.Storage.Sqlite;

/// <summary>In-process change bus. Subscriptions are per account; handlers run on the
/// publisher's thread (the store's writer, after commit) and must only signal.</summary>
internal sealed class ChangeBus(ILogger logger) : IChangeBus
{
    private readonly ConcurrentDictionary<long, ImmutableArray<Action<MailboxChange>>> _handlers = new();

    public IDisposable Subscribe(long accountId, Action<MailboxChange> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handlers.AddOrUpdate(accountId, _ => [handler], (_, list) => list.Add(handler));
        return new Subscription(this, accountId, handler);
    }

    public void Publish(MailboxChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (!_handlers.TryGetValue(change.AccountId, out var handlers))
        {
            return;
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(change);
            }
            catch (Exception ex)
            {
                // A faulty subscriber must not stop the writer or other subscribers.
                logger.LogError(ex, "Change bus subscriber failed for account {AccountId}", change.AccountId);
            }
        }
    }

    private void Unsubscribe(long accountId, Action<MailboxChange> handler)
    {
        while (_handlers.TryGetValue(accountId, out var list))
        {
            var updated = list.Remove(handler);
            if (updated.IsEmpty
                ? _handlers.TryRemove(new KeyValuePair<long, ImmutableArray<Action<MailboxChange>>>(accountId, list))
                : _handlers.TryUpdate(accountId, updated, list))
            {
                return;
            }
        }
    }

    private sealed class Subscription(ChangeBus bus, long accountId, Action<MailboxChange> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                bus.Unsubscribe(accountId, handler);
            }
        }
    }
}