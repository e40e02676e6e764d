using System.Security.Cryptography;

using Pochta.Core;
using Pochta.Storage;

namespace Pochta.Imap.Tests.Support;

/// <summary>A small in-memory IMailStore with the contract's semantics (modseq per change,
/// tombstones, change bus after "commit"), for transcript tests that must not depend on disk.</summary>
internal sealed class InMemoryMailStore : IMailStore, IMailboxStore, IMessageStore, IChangeBus
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, Box> _boxes = [];
    private readonly Dictionary<long, (byte[] Data, byte[] Index)> _blobs = [];
    private readonly Dictionary<long, List<Action<MailboxChange>>> _subscribers = [];
    private readonly HashSet<(long, string)> _subscriptions = [];
    private long _nextId = 1;
    private uint _nextValidity = 1000;

    private sealed class Box
    {
        public required MailboxInfo Info { get; set; }

        public List<MessageEntry> Messages { get; } = [];

        public List<(uint Uid, ulong ModSeq)> Tombstones { get; } = [];

        public uint RecentBoundary { get; set; } = 1;
    }

    public IDirectoryStore Directory => throw new NotSupportedException();

    public IMailboxStore Mailboxes => this;

    public IMessageStore Messages => this;

    public IQueueStore Queue => throw new NotSupportedException();

    public IChangeBus Changes => this;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public IDisposable Subscribe(long accountId, Action<MailboxChange> handler)
    {
        lock (_lock)
        {
            if (!_subscribers.TryGetValue(accountId, out var list))
            {
                _subscribers[accountId] = list = [];
            }

            list.Add(handler);
        }

        return new Unsubscriber(() =>
        {
            lock (_lock)
            {
                _subscribers[accountId].Remove(handler);
            }
        });
    }

    public void Publish(MailboxChange change)
    {
        Action<MailboxChange>[] handlers;
        lock (_lock)
        {
            handlers = _subscribers.TryGetValue(change.AccountId, out var list) ? [.. list] : [];
        }

        foreach (var h in handlers)
        {
            h(change);
        }
    }

    private sealed class Unsubscriber(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    private void Changed(Box box, MailboxChangeKind kind) => Publish(new MailboxChange(box.Info.AccountId, box.Info.Id, kind, box.Info.HighestModSeq));

    private ulong Bump(Box box)
    {
        box.Info = box.Info with { HighestModSeq = box.Info.HighestModSeq + 1 };
        return box.Info.HighestModSeq;
    }

    public void CreateAccountMailboxes(long accountId)
    {
        _ = CreateMailboxAsync(accountId, "INBOX", SpecialUse.Inbox, default);
        foreach (var (name, use) in new[] { ("Drafts", SpecialUse.Drafts), ("Sent", SpecialUse.Sent), ("Junk", SpecialUse.Junk), ("Trash", SpecialUse.Trash), ("Archive", SpecialUse.Archive) })
        {
            _ = CreateMailboxAsync(accountId, name, use, default);
        }
    }

    public Task<IReadOnlyList<MailboxInfo>> ListMailboxesAsync(long accountId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<MailboxInfo> list = _boxes.Values.Where(b => b.Info.AccountId == accountId).Select(b => b.Info with { Subscribed = _subscriptions.Contains((accountId, b.Info.Name)) }).OrderBy(b => b.Name, StringComparer.Ordinal).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<MailboxInfo?> FindMailboxAsync(long accountId, string name, CancellationToken cancellationToken)
    {
        if (string.Equals(name, "INBOX", StringComparison.OrdinalIgnoreCase))
        {
            name = "INBOX";
        }

        lock (_lock)
        {
            return Task.FromResult(_boxes.Values.FirstOrDefault(b => b.Info.AccountId == accountId && b.Info.Name == name)?.Info);
        }
    }

    public Task<MailboxInfo?> GetMailboxAsync(long mailboxId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_boxes.TryGetValue(mailboxId, out var b) ? b.Info : null);
        }
    }

    public Task<MailboxInfo> CreateMailboxAsync(long accountId, string name, SpecialUse specialUse, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_boxes.Values.Any(b => b.Info.AccountId == accountId && b.Info.Name == name))
            {
                throw new StoreConflictException("exists");
            }

            var info = new MailboxInfo(_nextId++, accountId, name, specialUse, _nextValidity++, 1, 1, false);
            _boxes[info.Id] = new Box { Info = info };
            return Task.FromResult(info);
        }
    }

    public Task DeleteMailboxAsync(long mailboxId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_boxes.Remove(mailboxId))
            {
                throw new StoreNotFoundException("mailbox");
            }
        }

        return Task.CompletedTask;
    }

    public Task RenameMailboxAsync(long mailboxId, string newName, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var box = _boxes[mailboxId];
            box.Info = box.Info with { Name = newName };
        }

        return Task.CompletedTask;
    }

    public Task SetSubscribedAsync(long accountId, string name, bool subscribed, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (subscribed)
            {
                _subscriptions.Add((accountId, name));
            }
            else
            {
                _subscriptions.Remove((accountId, name));
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ListSubscriptionsAsync(long accountId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<string> list = _subscriptions.Where(s => s.Item1 == accountId).Select(s => s.Item2).Order(StringComparer.Ordinal).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<MailboxCounts> GetCountsAsync(long mailboxId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var b = _boxes[mailboxId];
            var m = b.Messages;
            return Task.FromResult(new MailboxCounts(
                m.Count,
                m.Count(e => (e.Flags & MessageFlags.Seen) == 0),
                m.Count(e => (e.Flags & MessageFlags.Deleted) != 0),
                m.Sum(e => e.Size),
                m.Count(e => e.Uid >= b.RecentBoundary)));
        }
    }

    public Task<IReadOnlyList<MessageEntry>> ListMessagesAsync(long mailboxId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<MessageEntry> list = [.. _boxes[mailboxId].Messages];
            return Task.FromResult(list);
        }
    }

    public Task<MailboxChanges> GetChangesSinceAsync(long mailboxId, ulong modSeq, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var b = _boxes[mailboxId];
            return Task.FromResult(new MailboxChanges(
                b.Info.HighestModSeq,
                b.Info.UidNext,
                b.Messages.Where(m => m.ModSeq > modSeq).ToList(),
                b.Tombstones.Where(t => t.ModSeq > modSeq).Select(t => t.Uid).ToList()));
        }
    }

    public Task<uint> ClaimRecentAsync(long mailboxId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var b = _boxes[mailboxId];
            var first = b.RecentBoundary;
            b.RecentBoundary = b.Info.UidNext;
            return Task.FromResult(first);
        }
    }

    public Task<StoreFlagsResult> StoreFlagsAsync(long mailboxId, IReadOnlyList<uint> uids, FlagOperation operation, MessageFlags flags, IReadOnlyList<string> keywords, ulong? unchangedSince, CancellationToken cancellationToken)
    {
        Box b;
        var updated = new List<MessageEntry>();
        var conflicts = new List<uint>();
        lock (_lock)
        {
            b = _boxes[mailboxId];
            ulong? modseq = null;
            for (var i = 0; i < b.Messages.Count; i++)
            {
                var m = b.Messages[i];
                if (!uids.Contains(m.Uid))
                {
                    continue;
                }

                if (unchangedSince is { } u && m.ModSeq > u)
                {
                    conflicts.Add(m.Uid);
                    continue;
                }

                var nf = operation switch { FlagOperation.Add => m.Flags | flags, FlagOperation.Remove => m.Flags & ~flags, _ => flags };
                var nk = operation switch
                {
                    FlagOperation.Add => m.Keywords.Concat(keywords.Where(k => !m.Keywords.Contains(k, StringComparer.OrdinalIgnoreCase))).ToList(),
                    FlagOperation.Remove => m.Keywords.Where(k => !keywords.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList(),
                    _ => keywords.ToList(),
                };
                if (nf == m.Flags && nk.Count == m.Keywords.Count && nk.All(k => m.Keywords.Contains(k)))
                {
                    updated.Add(m);
                    continue;
                }

                modseq ??= Bump(b);
                var e = m with { Flags = nf, Keywords = nk, ModSeq = modseq.Value };
                b.Messages[i] = e;
                updated.Add(e);
            }
        }

        Changed(b, MailboxChangeKind.FlagsChanged);
        return Task.FromResult(new StoreFlagsResult(b.Info.HighestModSeq, updated, conflicts));
    }

    public Task<ExpungeResult> ExpungeAsync(long mailboxId, IReadOnlyList<uint>? uids, CancellationToken cancellationToken)
    {
        Box b;
        var removed = new List<uint>();
        lock (_lock)
        {
            b = _boxes[mailboxId];
            var gone = b.Messages.Where(m => uids is null ? (m.Flags & MessageFlags.Deleted) != 0 : uids.Contains(m.Uid)).ToList();
            if (gone.Count > 0)
            {
                var modseq = Bump(b);
                foreach (var m in gone)
                {
                    b.Messages.Remove(m);
                    b.Tombstones.Add((m.Uid, modseq));
                    removed.Add(m.Uid);
                }
            }
        }

        Changed(b, MailboxChangeKind.Expunged);
        return Task.FromResult(new ExpungeResult(b.Info.HighestModSeq, removed));
    }

    public Task<CopyResult> CopyAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken) =>
        Task.FromResult(Copy(sourceMailboxId, uids, destinationMailboxId, move: false));

    public Task<CopyResult> MoveAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken) =>
        Task.FromResult(Copy(sourceMailboxId, uids, destinationMailboxId, move: true));

    private CopyResult Copy(long sourceId, IReadOnlyList<uint> uids, long destinationId, bool move)
    {
        Box s, d;
        var src = new List<uint>();
        var dst = new List<uint>();
        lock (_lock)
        {
            s = _boxes[sourceId];
            d = _boxes[destinationId];
            var list = s.Messages.Where(m => uids.Contains(m.Uid)).ToList();
            if (list.Count > 0)
            {
                var modseq = Bump(d);
                foreach (var m in list)
                {
                    var uid = d.Info.UidNext;
                    d.Info = d.Info with { UidNext = uid + 1 };
                    d.Messages.Add(m with { Uid = uid, ModSeq = modseq });
                    src.Add(m.Uid);
                    dst.Add(uid);
                }

                if (move)
                {
                    var sm = Bump(s);
                    foreach (var m in list)
                    {
                        s.Messages.Remove(m);
                        s.Tombstones.Add((m.Uid, sm));
                    }
                }
            }
        }

        Changed(d, MailboxChangeKind.Appended);
        if (move)
        {
            Changed(s, MailboxChangeKind.Expunged);
        }

        return new CopyResult(d.Info.UidValidity, src, dst);
    }

    public IMessageWriter CreateWriter() => new Writer();

    public Task<DeliveryResult> CommitAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        var staged = (Staged)request.Message;
        var uids = new List<uint>();
        var boxes = new List<Box>();
        long id;
        lock (_lock)
        {
            id = _nextId++;
            _blobs[id] = (staged.Data, request.Index.ToArray());
            foreach (var local in request.Local)
            {
                var b = _boxes[local.MailboxId];
                var modseq = Bump(b);
                var uid = b.Info.UidNext;
                b.Info = b.Info with { UidNext = uid + 1 };
                b.Messages.Add(new MessageEntry(uid, id, local.Flags, local.Keywords, modseq, local.InternalDate, staged.Data.Length));
                uids.Add(uid);
                boxes.Add(b);
            }
        }

        foreach (var b in boxes)
        {
            Changed(b, MailboxChangeKind.Appended);
        }

        return Task.FromResult(new DeliveryResult(id, uids, null));
    }

    public Task<Stream> OpenMessageAsync(long messageId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _blobs.TryGetValue(messageId, out var b)
                ? Task.FromResult<Stream>(new MemoryStream(b.Data, writable: false))
                : throw new StoreNotFoundException("message");
        }
    }

    public Task<ReadOnlyMemory<byte>> GetIndexAsync(long messageId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _blobs.TryGetValue(messageId, out var b)
                ? Task.FromResult<ReadOnlyMemory<byte>>(b.Index)
                : throw new StoreNotFoundException("message");
        }
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

    private sealed class Staged(byte[] data) : StagedMessage
    {
        public byte[] Data { get; } = data;

        public override long Length => Data.Length;

        public override string ContentHash => Convert.ToHexStringLower(SHA256.HashData(Data));

        public override Stream OpenRead() => new MemoryStream(Data, writable: false);

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
