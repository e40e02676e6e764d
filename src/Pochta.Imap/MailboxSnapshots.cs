using Pochta.Storage;

namespace Pochta.Imap;

/// <summary>
/// The per-mailbox in-memory index shared by the sessions that select a mailbox (DESIGN §7):
/// every message's <see cref="MessageEntry"/> (UID, flags, keywords, modseq, internal date,
/// size) in UID order, as of a known modseq. SELECT/EXAMINE take it instead of listing every row.
/// Contract: a snapshot is brought up to date from the store's change log
/// (<see cref="IMailboxStore.GetChangesSinceAsync"/>: entries and tombstones above its modseq),
/// and only when the mailbox's HIGHESTMODSEQ moved, which every mutation of the mailbox does
/// (append, flag change, expunge). Snapshots are immutable arrays replaced on update, so a
/// session's copy is never changed under it. Bounded: least recently used mailboxes are dropped
/// once the entries held exceed the capacity.
/// </summary>
internal sealed class MailboxSnapshots(long capacityEntries)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, LinkedListNode<Shared>> _mailboxes = [];
    private readonly LinkedList<Shared> _lru = [];
    private long _entries;

    /// <summary>Entries held over every mailbox.</summary>
    public long Entries
    {
        get
        {
            lock (_lock)
            {
                return _entries;
            }
        }
    }

    public int Mailboxes
    {
        get
        {
            lock (_lock)
            {
                return _mailboxes.Count;
            }
        }
    }

    /// <summary>Full listings read from the store (tests).</summary>
    public long Loads => Interlocked.Read(ref _loads);

    private long _loads;

    /// <summary>The mailbox's messages in UID order and the modseq they are current to (at least
    /// <paramref name="info"/>'s HIGHESTMODSEQ; replaying changes above it is idempotent).</summary>
    public async Task<(MessageEntry[] Entries, ulong ModSeq)> GetAsync(IMailboxStore store, MailboxInfo info, CancellationToken cancellationToken)
    {
        var shared = Acquire(info.Id);
        await shared.Gate.WaitAsync(cancellationToken);
        try
        {
            if (shared.Entries is { } current && shared.ModSeq >= info.HighestModSeq)
            {
                return (current, shared.ModSeq);
            }

            MessageEntry[] entries;
            ulong modSeq;
            if (shared.Entries is null)
            {
                // The listing's own snapshot is at least as new as info's: later syncs from
                // info.HighestModSeq replay what it already has, which is harmless.
                Interlocked.Increment(ref _loads);
                entries = [.. await store.ListMessagesAsync(info.Id, cancellationToken)];
                modSeq = info.HighestModSeq;
            }
            else
            {
                var changes = await store.GetChangesSinceAsync(info.Id, shared.ModSeq, cancellationToken);
                entries = Apply(shared.Entries, changes);
                modSeq = Math.Max(shared.ModSeq, changes.HighestModSeq);
            }

            Publish(shared, entries, modSeq);
            return (entries, modSeq);
        }
        finally
        {
            shared.Gate.Release();
        }
    }

    /// <summary>Applies a change set to a UID-ordered array: expunged UIDs go, changed entries
    /// replace theirs (or are inserted in UID order when new).</summary>
    internal static MessageEntry[] Apply(MessageEntry[] entries, MailboxChanges changes)
    {
        if (changes.Changed.Count == 0 && changes.Expunged.Count == 0)
        {
            return entries;
        }

        var gone = changes.Expunged.Count == 0 ? null : new HashSet<uint>(changes.Expunged);
        var changed = new Dictionary<uint, MessageEntry>(changes.Changed.Count);
        foreach (var e in changes.Changed)
        {
            if (gone is null || !gone.Contains(e.Uid))
            {
                changed[e.Uid] = e;
            }
        }

        var result = new List<MessageEntry>(entries.Length + changed.Count);
        foreach (var e in entries)
        {
            if (gone is not null && gone.Contains(e.Uid))
            {
                continue;
            }

            if (changed.Remove(e.Uid, out var replacement))
            {
                result.Add(replacement);
            }
            else
            {
                result.Add(e);
            }
        }

        if (changed.Count > 0)
        {
            // New messages: UIDs above every known one in practice; merged in order regardless.
            var added = changed.Values.OrderBy(e => e.Uid).ToList();
            if (result.Count == 0 || added[0].Uid > result[^1].Uid)
            {
                result.AddRange(added);
            }
            else
            {
                result.AddRange(added);
                result.Sort(static (a, b) => a.Uid.CompareTo(b.Uid));
            }
        }

        return [.. result];
    }

    private Shared Acquire(long mailboxId)
    {
        lock (_lock)
        {
            if (_mailboxes.TryGetValue(mailboxId, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                return node.Value;
            }

            var shared = new Shared(mailboxId);
            _mailboxes[mailboxId] = _lru.AddFirst(shared);
            return shared;
        }
    }

    private void Publish(Shared shared, MessageEntry[] entries, ulong modSeq)
    {
        lock (_lock)
        {
            var old = shared.Entries?.Length ?? 0;
            shared.Entries = entries;
            shared.ModSeq = modSeq;
            if (_mailboxes.TryGetValue(shared.MailboxId, out var node) && ReferenceEquals(node.Value, shared))
            {
                _entries += entries.Length - old;
            }

            // Never drops the mailbox just published (the newest), so one huge mailbox still works.
            while (_entries > capacityEntries && _lru.Last is { } last && !ReferenceEquals(last.Value, shared))
            {
                _lru.RemoveLast();
                _mailboxes.Remove(last.Value.MailboxId);
                _entries -= last.Value.Entries?.Length ?? 0;
            }
        }
    }

    private sealed class Shared(long mailboxId)
    {
        public long MailboxId { get; } = mailboxId;

        /// <summary>Serialises updates; readers of <see cref="Entries"/> take the array as is.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public MessageEntry[]? Entries { get; set; }

        public ulong ModSeq { get; set; }
    }
}