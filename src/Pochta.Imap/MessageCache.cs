using Pochta.Mime;
using Pochta.Storage;

namespace Pochta.Imap;

/// <summary>
/// Process-wide, bounded cache of what FETCH, SEARCH, SORT and THREAD read per message: the
/// decoded <see cref="MessageIndex"/> without its body text, and the top-level header block's raw
/// bytes (BODY[HEADER], HEADER.FIELDS, RFC822.HEADER). Shared by every session (it lives in the
/// singleton <see cref="ImapProtocolHandler"/>).
/// Contract: keyed by the stored message id. A stored message's bytes and index never change and
/// its id is never reused (AUTOINCREMENT), so an entry can never be stale and needs no
/// invalidation: flags, modseq and expunges are per-mailbox state and are not kept here; an
/// expunged message's entry simply ages out. Least recently used entries are dropped once the
/// estimated size exceeds the capacity.
/// </summary>
internal sealed class MessageCache
{
    /// <summary>Header blocks larger than this are read from the blob each time (not cached).</summary>
    public const int MaxCachedHeader = 64 * 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<long, LinkedListNode<Item>> _items = [];
    private readonly LinkedList<Item> _lru = [];
    private readonly long _capacity;
    private long _bytes;
    private long _hits;
    private long _misses;

    public MessageCache(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        _capacity = capacityBytes;
    }

    /// <summary>Estimated bytes held.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The message's index without body text (<see cref="SearchData.BodyText"/> is empty).</summary>
    /// <exception cref="StoreNotFoundException">The message is gone (its last copy was expunged).</exception>
    public async ValueTask<MessageIndex> GetIndexAsync(IMessageStore store, long messageId, CancellationToken cancellationToken)
    {
        if (TryGet(messageId, out var item))
        {
            Interlocked.Increment(ref _hits);
            return item.Index;
        }

        Interlocked.Increment(ref _misses);
        var data = await store.GetIndexAsync(messageId, cancellationToken);
        var index = MessageIndexSerializer.Deserialize(data.Span, includeBodyText: false);
        Add(messageId, new Item(messageId, index, Estimate(index)));
        return index;
    }

    /// <summary>The top-level header block (including its terminating blank line), or null when it
    /// is too large to cache (the caller then streams it from the blob).</summary>
    public async ValueTask<byte[]?> GetHeaderAsync(IMessageStore store, long messageId, MessageIndex index, CancellationToken cancellationToken)
    {
        var length = index.Body.HeaderLength;
        if (length > MaxCachedHeader)
        {
            return null;
        }

        if (TryGet(messageId, out var item) && item.Header is { } cached)
        {
            return cached;
        }

        var header = new byte[length];
        await using (var blob = await store.OpenMessageAsync(messageId, cancellationToken))
        {
            blob.Position = index.Body.Offset;
            await blob.ReadExactlyAsync(header, cancellationToken);
        }

        lock (_lock)
        {
            if (_items.TryGetValue(messageId, out var node) && node.Value.Header is null)
            {
                node.Value.Header = header;
                node.Value.Cost += header.Length;
                _bytes += header.Length;
                TrimLocked();
            }
        }

        return header;
    }

    private bool TryGet(long messageId, out Item item)
    {
        lock (_lock)
        {
            if (_items.TryGetValue(messageId, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                item = node.Value;
                return true;
            }
        }

        item = null!;
        return false;
    }

    private void Add(long messageId, Item item)
    {
        if (item.Cost > _capacity)
        {
            return;
        }

        lock (_lock)
        {
            if (_items.ContainsKey(messageId))
            {
                // Another session loaded it meanwhile: same immutable content.
                return;
            }

            _items[messageId] = _lru.AddFirst(item);
            _bytes += item.Cost;
            TrimLocked();
        }
    }

    private void TrimLocked()
    {
        while (_bytes > _capacity && _lru.Last is { } last)
        {
            _lru.RemoveLast();
            _items.Remove(last.Value.MessageId);
            _bytes -= last.Value.Cost;
        }
    }

    /// <summary>A rough size of the decoded object graph (strings at 2 bytes a char, an object
    /// header and references per record).</summary>
    internal static long Estimate(MessageIndex index)
    {
        long cost = 256 + Envelope(index.Envelope) + Part(index.Body, 0);
        foreach (var h in index.Search.Headers)
        {
            cost += 64 + (2L * (h.Name.Length + h.Value.Length));
        }

        var t = index.Threading;
        cost += 64 + Str(t.MessageId) + Str(index.Search.BaseSubject) + Str(index.Search.Preview);
        foreach (var r in t.References)
        {
            cost += Str(r) + 8;
        }

        foreach (var r in t.InReplyTo)
        {
            cost += Str(r) + 8;
        }

        return cost;
    }

    private static long Part(BodyPart part, int depth)
    {
        long cost = 200 + Str(part.MediaType) + Str(part.MediaSubtype) + Str(part.ContentId) + Str(part.Description)
            + Str(part.TransferEncoding) + Str(part.Md5) + Str(part.Location);
        foreach (var p in part.Parameters)
        {
            cost += 48 + Str(p.Name) + Str(p.Value);
        }

        if (part.Disposition is { } d)
        {
            cost += 48 + Str(d.Type);
            foreach (var p in d.Parameters)
            {
                cost += 48 + Str(p.Name) + Str(p.Value);
            }
        }

        if (part.MessageEnvelope is { } e)
        {
            cost += Envelope(e);
        }

        if (depth < 256)
        {
            foreach (var c in part.Children)
            {
                cost += Part(c, depth + 1);
            }

            if (part.Message is { } m)
            {
                cost += Part(m, depth + 1);
            }
        }

        return cost;
    }

    private static long Envelope(MessageEnvelope e) =>
        160 + Str(e.Date) + Str(e.Subject) + (ReferenceEquals(e.Subject, e.DecodedSubject) ? 0 : Str(e.DecodedSubject))
        + Str(e.InReplyTo) + Str(e.MessageId)
        + Addresses(e.From) + Addresses(e.Sender) + Addresses(e.ReplyTo) + Addresses(e.To) + Addresses(e.Cc) + Addresses(e.Bcc);

    private static long Addresses(IReadOnlyList<EnvelopeAddress>? list)
    {
        if (list is null)
        {
            return 0;
        }

        long cost = 32;
        foreach (var a in list)
        {
            cost += 56 + Str(a.RawName) + Str(a.Name) + Str(a.Route) + Str(a.Mailbox) + Str(a.Host);
        }

        return cost;
    }

    private static long Str(string? s) => s is null ? 0 : 24 + (2L * s.Length);

    private sealed class Item(long messageId, MessageIndex index, long cost)
    {
        public long MessageId { get; } = messageId;

        public MessageIndex Index { get; } = index;

        public byte[]? Header { get; set; }

        public long Cost { get; set; } = cost;
    }
}