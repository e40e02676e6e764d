using System.Security.Cryptography;

using Pochta.Core;
using Pochta.Storage;

namespace Pochta.Pop3.Tests.Session;

/// <summary>Stand-in for SqliteMailStore until it lands on main: just the members POP3 uses, with
/// the contract's observable behaviour (UIDs increase, expunge removes, flags change modseq).</summary>
internal sealed class InMemoryStore : IMailStore, IMailboxStore, IMessageStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, MailboxInfo> _mailboxes = [];
    private readonly Dictionary<long, List<MessageEntry>> _entries = [];
    private readonly Dictionary<long, byte[]> _blobs = [];
    private long _nextMessageId = 1;
    private long _nextMailboxId = 1;

    public IDirectoryStore Directory => throw new NotSupportedException();

    public IMailboxStore Mailboxes => this;

    public IMessageStore Messages => this;

    public IQueueStore Queue => throw new NotSupportedException();

    public IChangeBus Changes => throw new NotSupportedException();

    public int ExpungeCalls { get; private set; }

    public int StoreFlagsCalls { get; private set; }

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public MailboxInfo AddMailbox(long accountId, string name)
    {
        lock (_gate)
        {
            var info = new MailboxInfo(_nextMailboxId++, accountId, name, SpecialUse.Inbox, 1234567, 1, 1, true);
            _mailboxes[info.Id] = info;
            _entries[info.Id] = [];
            return info;
        }
    }

    public Task<MailboxInfo?> FindMailboxAsync(long accountId, string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_mailboxes.Values.FirstOrDefault(m => m.AccountId == accountId && m.Name.Equals(name, StringComparison.OrdinalIgnoreCase)));
        }
    }

    public Task<MailboxInfo?> GetMailboxAsync(long mailboxId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_mailboxes.GetValueOrDefault(mailboxId));
        }
    }

    public Task<IReadOnlyList<MessageEntry>> ListMessagesAsync(long mailboxId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<MessageEntry>>([.. _entries[mailboxId]]);
        }
    }

    public Task<StoreFlagsResult> StoreFlagsAsync(long mailboxId, IReadOnlyList<uint> uids, FlagOperation operation, MessageFlags flags, IReadOnlyList<string> keywords, ulong? unchangedSince, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            StoreFlagsCalls++;
            var list = _entries[mailboxId];
            var updated = new List<MessageEntry>();
            var box = _mailboxes[mailboxId];
            for (var i = 0; i < list.Count; i++)
            {
                if (!uids.Contains(list[i].Uid))
                {
                    continue;
                }

                var newFlags = operation switch
                {
                    FlagOperation.Add => list[i].Flags | flags,
                    FlagOperation.Remove => list[i].Flags & ~flags,
                    _ => flags,
                };
                if (newFlags != list[i].Flags)
                {
                    box = box with { HighestModSeq = box.HighestModSeq + 1 };
                    list[i] = list[i] with { Flags = newFlags, ModSeq = box.HighestModSeq };
                    updated.Add(list[i]);
                }
            }

            _mailboxes[mailboxId] = box;
            return Task.FromResult(new StoreFlagsResult(box.HighestModSeq, updated, []));
        }
    }

    public Task<ExpungeResult> ExpungeAsync(long mailboxId, IReadOnlyList<uint>? uids, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ExpungeCalls++;
            var list = _entries[mailboxId];
            var gone = list.Where(e => uids is null ? (e.Flags & MessageFlags.Deleted) != 0 : uids.Contains(e.Uid)).Select(e => e.Uid).ToList();
            list.RemoveAll(e => gone.Contains(e.Uid));
            var box = _mailboxes[mailboxId] with { HighestModSeq = _mailboxes[mailboxId].HighestModSeq + 1 };
            _mailboxes[mailboxId] = box;
            return Task.FromResult(new ExpungeResult(box.HighestModSeq, gone));
        }
    }

    public IMessageWriter CreateWriter() => new Writer();

    public Task<DeliveryResult> CommitAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        using var stream = request.Message.OpenRead();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        lock (_gate)
        {
            var id = _nextMessageId++;
            _blobs[id] = copy.ToArray();
            var uids = new List<uint>();
            foreach (var local in request.Local)
            {
                var box = _mailboxes[local.MailboxId];
                var uid = box.UidNext;
                _mailboxes[local.MailboxId] = box with { UidNext = uid + 1, HighestModSeq = box.HighestModSeq + 1 };
                _entries[local.MailboxId].Add(new MessageEntry(uid, id, local.Flags, local.Keywords, box.HighestModSeq + 1, local.InternalDate, copy.Length));
                uids.Add(uid);
            }

            return Task.FromResult(new DeliveryResult(id, uids, null));
        }
    }

    public Task<Stream> OpenMessageAsync(long messageId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _blobs.TryGetValue(messageId, out var bytes)
                ? Task.FromResult<Stream>(new MemoryStream(bytes, writable: false))
                : throw new StoreNotFoundException("message");
        }
    }

    public Task<ReadOnlyMemory<byte>> GetIndexAsync(long messageId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<MailboxInfo>> ListMailboxesAsync(long accountId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxInfo> CreateMailboxAsync(long accountId, string name, SpecialUse specialUse, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task DeleteMailboxAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task RenameMailboxAsync(long mailboxId, string newName, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task SetSubscribedAsync(long accountId, string name, bool subscribed, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<string>> ListSubscriptionsAsync(long accountId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxCounts> GetCountsAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxChanges> GetChangesSinceAsync(long mailboxId, ulong modSeq, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<uint> ClaimRecentAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<CopyResult> CopyAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<CopyResult> MoveAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    private sealed class Writer : IMessageWriter
    {
        private readonly MemoryStream _data = new();

        public long Length => _data.Length;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _data.WriteAsync(data, cancellationToken);

        public ValueTask<StagedMessage> CompleteAsync(CancellationToken cancellationToken) => ValueTask.FromResult<StagedMessage>(new Staged(_data.ToArray()));

        public ValueTask DisposeAsync() => _data.DisposeAsync();
    }

    private sealed class Staged(byte[] bytes) : StagedMessage
    {
        public override long Length => bytes.Length;

        public override string ContentHash => Convert.ToHexStringLower(SHA256.HashData(bytes));

        public override Stream OpenRead() => new MemoryStream(bytes, writable: false);

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}