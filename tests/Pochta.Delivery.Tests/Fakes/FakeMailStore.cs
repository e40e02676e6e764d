using System.Collections.Concurrent;
using System.Reflection;

using Pochta.Storage;

namespace Pochta.Delivery.Tests.Fakes;

/// <summary>
/// An in-memory IMailStore with just what the outbound queue uses: the queue (per-recipient
/// state, due times, attempts), message bytes, commits (local copies and queue entries), and
/// the directory lookups of the DSN sender. Members the outbound code never calls throw.
/// </summary>
public sealed class FakeMailStore : IMailStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, byte[]> _messages = [];
    private readonly Dictionary<long, QueueEntryInfo> _queue = [];
    private long _nextId = 1;

    public FakeMailStore()
    {
        Directory = ProxyFactory.Create<IDirectoryStore>(new()
        {
            ["FindDomainAsync"] = a => Task.FromResult(Domains.Contains((string)a[0]!) ? new DomainInfo(1, (string)a[0]!, DateTimeOffset.UnixEpoch) : null),
            ["FindAccountAsync"] = a => Task.FromResult(Accounts.TryGetValue((string)a[0]!, out var id) ? new AccountInfo(id, (string)a[0]!, 1, 0, false, DateTimeOffset.UnixEpoch) : null),
        });
        Mailboxes = ProxyFactory.Create<IMailboxStore>(new()
        {
            ["FindMailboxAsync"] = a => Task.FromResult<MailboxInfo?>((string)a[1]! == "INBOX" ? new MailboxInfo(1000 + (long)a[0]!, (long)a[0]!, "INBOX", default, 1, 1, 1, true) : null),
        });
        Messages = new MessageStore(this);
        Queue = new QueueStore(this);
        Changes = ProxyFactory.Create<IChangeBus>([]);
    }

    public HashSet<string> Domains { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Local accounts: address → account id (INBOX id is 1000 + account id).</summary>
    public Dictionary<string, long> Accounts { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Messages committed to local mailboxes: (mailbox id, message id).</summary>
    public ConcurrentQueue<(long MailboxId, long MessageId)> LocalCopies { get; } = new();

    private int _recordCalls;

    public int RecordCalls => Volatile.Read(ref _recordCalls);

    /// <summary>Awaited by GetDueAsync after it has taken its snapshot (a scan held between
    /// reading the queue and dispatching).</summary>
    public Func<Task>? AfterDueSnapshot { get; set; }

    /// <summary>Makes CommitAsync throw (a store fault while committing a DSN).</summary>
    public bool FailCommits { get; set; }

    public IDirectoryStore Directory { get; }

    public IMailboxStore Mailboxes { get; }

    public IMessageStore Messages { get; }

    public IQueueStore Queue { get; }

    public IChangeBus Changes { get; }

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Queues a message for remote recipients (as the SMTP side would commit it).</summary>
    public QueueEntryInfo Enqueue(string sender, byte[] message, DateTimeOffset createdAt, IEnumerable<QueuedRecipient> recipients, string? envelopeId = null, bool returnFull = false)
    {
        lock (_gate)
        {
            var messageId = _nextId++;
            _messages[messageId] = message;
            return AddEntry(messageId, sender, createdAt, recipients, new DsnEnvelope(envelopeId, returnFull));
        }
    }

    public QueueEntryInfo Enqueue(string sender, string message, DateTimeOffset createdAt, params string[] recipients) =>
        Enqueue(sender, System.Text.Encoding.UTF8.GetBytes(message), createdAt, recipients.Select(r => new QueuedRecipient(r, null, null)));

    public byte[] GetMessage(long messageId)
    {
        lock (_gate)
        {
            return _messages[messageId];
        }
    }

    public void RemoveMessage(long messageId)
    {
        lock (_gate)
        {
            _messages.Remove(messageId);
        }
    }

    public QueueEntryInfo? Entry(long id)
    {
        lock (_gate)
        {
            return _queue.GetValueOrDefault(id);
        }
    }

    public List<QueueEntryInfo> Entries()
    {
        lock (_gate)
        {
            return [.. _queue.Values.OrderBy(e => e.Id)];
        }
    }

    /// <summary>Every recipient ever finished, by queue entry: final states survive entry removal.</summary>
    public ConcurrentDictionary<long, QueueRecipientInfo> FinalRecipients { get; } = new();

    private QueueEntryInfo AddEntry(long messageId, string sender, DateTimeOffset createdAt, IEnumerable<QueuedRecipient> recipients, DsnEnvelope? dsn)
    {
        var id = _nextId++;
        var list = recipients.Select(r => new QueueRecipientInfo(_nextId++, r.Address, r.Notify, r.OriginalRecipient, RecipientState.Queued, 0, createdAt, null, null, false)).ToList();
        var entry = new QueueEntryInfo(id, messageId, sender, dsn?.EnvelopeId, dsn?.ReturnFullMessage ?? false, createdAt, list);
        _queue[id] = entry;
        return entry;
    }

    private sealed class MessageStore(FakeMailStore owner) : IMessageStore
    {
        public IMessageWriter CreateWriter() => new Writer();

        public async Task<DeliveryResult> CommitAsync(DeliveryRequest request, CancellationToken cancellationToken)
        {
            if (owner.FailCommits)
            {
                throw new ArgumentException("Simulated store fault");
            }

            var bytes = new MemoryStream();
            await using (var read = request.Message.OpenRead())
            {
                await read.CopyToAsync(bytes, cancellationToken);
            }

            lock (owner._gate)
            {
                var messageId = owner._nextId++;
                owner._messages[messageId] = bytes.ToArray();
                foreach (var local in request.Local)
                {
                    owner.LocalCopies.Enqueue((local.MailboxId, messageId));
                }

                long? queueId = request.Remote.Count > 0
                    ? owner.AddEntry(messageId, request.Sender, DateTimeOffset.UnixEpoch, request.Remote, request.Dsn).Id
                    : null;
                return new DeliveryResult(messageId, request.Local.Select((_, i) => (uint)(i + 1)).ToList(), queueId);
            }
        }

        public Task<Stream> OpenMessageAsync(long messageId, CancellationToken cancellationToken)
        {
            lock (owner._gate)
            {
                return owner._messages.TryGetValue(messageId, out var bytes)
                    ? Task.FromResult<Stream>(new MemoryStream(bytes, writable: false))
                    : throw new StoreNotFoundException("No message " + messageId);
            }
        }

        public Task<ReadOnlyMemory<byte>> GetIndexAsync(long messageId, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class Writer : IMessageWriter
    {
        private readonly MemoryStream _data = new();

        public long Length => _data.Length;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            _data.Write(data.Span);
            return ValueTask.CompletedTask;
        }

        public ValueTask<StagedMessage> CompleteAsync(CancellationToken cancellationToken) => ValueTask.FromResult<StagedMessage>(new Staged(_data.ToArray()));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Staged(byte[] bytes) : StagedMessage
    {
        public override long Length => bytes.Length;

        public override string ContentHash => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

        public override Stream OpenRead() => new MemoryStream(bytes, writable: false);

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class QueueStore(FakeMailStore owner) : IQueueStore
    {
        private static bool Pending(QueueRecipientInfo r) => r.State is RecipientState.Queued or RecipientState.Deferred;

        public Task<IReadOnlyList<QueueEntryInfo>> ListAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<QueueEntryInfo>>(owner.Entries());

        public Task<QueueEntryInfo?> GetAsync(long queueId, CancellationToken cancellationToken) => Task.FromResult(owner.Entry(queueId));

        public Task<IReadOnlyList<QueueEntryInfo>> GetDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
            GetDueAsync(now, limit, [], cancellationToken);

        public async Task<IReadOnlyList<QueueEntryInfo>> GetDueAsync(DateTimeOffset now, int limit, IReadOnlyCollection<long> excludedRecipients, CancellationToken cancellationToken)
        {
            var excluded = excludedRecipients.ToHashSet();
            var due = owner.Entries()
                .Where(e => e.Recipients.Any(r => Pending(r) && (r.NextAttemptAt is null || r.NextAttemptAt <= now) && !excluded.Contains(r.Id)))
                .Take(limit).ToList();
            if (owner.AfterDueSnapshot is { } hook)
            {
                await hook();
            }

            return due;
        }

        public Task<DateTimeOffset?> GetNextDueAsync(CancellationToken cancellationToken) =>
            Task.FromResult(owner.Entries().SelectMany(e => e.Recipients).Where(Pending)
                .Select(r => (DateTimeOffset?)(r.NextAttemptAt ?? DateTimeOffset.MinValue)).Min());

        public Task RecordOutcomesAsync(long queueId, IReadOnlyList<RecipientOutcome> outcomes, CancellationToken cancellationToken)
        {
            lock (owner._gate)
            {
                Interlocked.Increment(ref owner._recordCalls);
                if (!Record(queueId, outcomes))
                {
                    throw new StoreNotFoundException("No such queue entry.");
                }
            }

            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<long>> RecordOutcomesAsync(IReadOnlyList<QueueEntryOutcomes> entries, CancellationToken cancellationToken)
        {
            var missing = new List<long>();
            lock (owner._gate)
            {
                Interlocked.Increment(ref owner._recordCalls);
                foreach (var e in entries)
                {
                    if (!Record(e.QueueId, e.Outcomes))
                    {
                        missing.Add(e.QueueId);
                    }
                }
            }

            return Task.FromResult<IReadOnlyList<long>>(missing);
        }

        private bool Record(long queueId, IReadOnlyList<RecipientOutcome> outcomes)
        {
            if (!owner._queue.TryGetValue(queueId, out var entry) || !outcomes.All(o => entry.Recipients.Any(r => r.Id == o.RecipientId)))
            {
                return false;
            }

            var recipients = entry.Recipients.Select(r =>
            {
                var o = outcomes.FirstOrDefault(x => x.RecipientId == r.Id);
                return o is null ? r : r with
                {
                    State = o.State,
                    Attempts = r.Attempts + 1,
                    NextAttemptAt = o.NextAttemptAt,
                    LastReply = o.Reply,
                    RemoteHost = o.RemoteHost,
                    DelayNotified = o.DelayNotified,
                };
            }).ToList();
            foreach (var r in recipients.Where(r => !Pending(r)))
            {
                owner.FinalRecipients[r.Id] = r;
            }

            if (recipients.All(r => !Pending(r)))
            {
                owner._queue.Remove(queueId);
            }
            else
            {
                owner._queue[queueId] = entry with { Recipients = recipients };
            }

            return true;
        }

        public Task<int> RescheduleNowAsync(long? queueId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> DeleteAsync(long queueId, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}

/// <summary>An interface implementation from a table of method handlers; other members throw.</summary>
public class ProxyFactory : DispatchProxy
{
    private Dictionary<string, Func<object?[], object?>> _handlers = [];

    public static T Create<T>(Dictionary<string, Func<object?[], object?>> handlers)
        where T : class
    {
        var proxy = Create<T, ProxyFactory>();
        ((ProxyFactory)(object)proxy)._handlers = handlers;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
        targetMethod is not null && _handlers.TryGetValue(targetMethod.Name, out var handler)
            ? handler(args ?? [])
            : throw new NotSupportedException("Fake store: " + targetMethod?.Name);
}

/// <summary>An indexer that records nothing: the outbound tests read DSN bytes, not indexes.</summary>
public sealed class NullIndexer : IMessageIndexer
{
    public ValueTask<byte[]> BuildIndexAsync(Stream message, CancellationToken cancellationToken) => ValueTask.FromResult(Array.Empty<byte>());
}

/// <summary>A scripted resolver: MX answers and host addresses; IP literals resolve to themselves.</summary>
public sealed class FakeDns : IOutboundDnsResolver
{
    public Dictionary<string, MxLookupResult> Mx { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, IPAddressList> Hosts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> FailingHosts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentQueue<string> Queries { get; } = new();

    public Task<MxLookupResult> LookupMxAsync(string domain, CancellationToken cancellationToken)
    {
        Queries.Enqueue("MX " + domain);
        return Task.FromResult(Mx.TryGetValue(domain, out var r) ? r : new MxLookupResult(MxLookupStatus.NoSuchDomain, [], "Domain not found"));
    }

    public Task<IReadOnlyList<System.Net.IPAddress>> LookupAddressesAsync(string host, CancellationToken cancellationToken)
    {
        Queries.Enqueue("A " + host);
        if (FailingHosts.Contains(host))
        {
            throw new DnsLookupException("SERVFAIL");
        }

        if (System.Net.IPAddress.TryParse(host, out var literal))
        {
            return Task.FromResult<IReadOnlyList<System.Net.IPAddress>>([literal]);
        }

        return Task.FromResult<IReadOnlyList<System.Net.IPAddress>>(Hosts.TryGetValue(host, out var list) ? list : []);
    }
}

public sealed class IPAddressList : List<System.Net.IPAddress>;