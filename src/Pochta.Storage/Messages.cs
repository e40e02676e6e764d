using Pochta.Core;

namespace Pochta.Storage;

/// <summary>
/// A message body being received. Bytes are written as they arrive (SMTP DATA, IMAP APPEND
/// literal); nothing is visible to anyone until <see cref="IMessageStore.CommitAsync"/>.
/// Disposing without committing discards it. The SHA-256 content hash is computed while writing.
/// </summary>
public interface IMessageWriter : IAsyncDisposable
{
    long Length { get; }

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Finishes writing: flushes and fsyncs spilled data, returns the staged message.</summary>
    ValueTask<StagedMessage> CompleteAsync(CancellationToken cancellationToken);
}

/// <summary>A fully received message waiting to be committed. The caller parses it
/// (<see cref="OpenRead"/>) to build its index before committing.</summary>
public abstract class StagedMessage : IAsyncDisposable
{
    public abstract long Length { get; }

    /// <summary>Lower-case hex SHA-256 of the bytes.</summary>
    public abstract string ContentHash { get; }

    /// <summary>A new seekable read-only stream over the staged bytes.</summary>
    public abstract Stream OpenRead();

    public abstract ValueTask DisposeAsync();
}

/// <summary>A local mailbox copy of a message.</summary>
public sealed record LocalDelivery(long MailboxId, MessageFlags Flags, IReadOnlyList<string> Keywords, DateTimeOffset InternalDate);

/// <summary>The per-message DSN parameters of RFC 3461 §4.</summary>
public sealed record DsnEnvelope(string? EnvelopeId, bool ReturnFullMessage);

/// <summary>A remote recipient handed to the outbound queue, with its RFC 3461 parameters.</summary>
/// <param name="Notify">NOTIFY value as sent (e.g. <c>SUCCESS,FAILURE</c>, <c>NEVER</c>), null when absent.</param>
/// <param name="OriginalRecipient">ORCPT as sent (<c>rfc822;addr</c>), null when absent.</param>
public sealed record QueuedRecipient(string Address, string? Notify, string? OriginalRecipient);

/// <summary>Everything to commit for one received message, in one transaction: the blob
/// (stored once), the parsed index, a copy per local mailbox and an outbound queue entry.</summary>
/// <param name="Index">The serialized parsed index (Pochta.Mime); opaque to storage.</param>
/// <param name="Sender">Envelope sender; empty for the null reverse path.</param>
public sealed record DeliveryRequest(
    StagedMessage Message,
    ReadOnlyMemory<byte> Index,
    string Sender,
    IReadOnlyList<LocalDelivery> Local,
    IReadOnlyList<QueuedRecipient> Remote,
    DsnEnvelope? Dsn);

/// <param name="Uids">One per <see cref="DeliveryRequest.Local"/> entry, in order.</param>
/// <param name="QueueId">The outbound queue entry, when there were remote recipients.</param>
public sealed record DeliveryResult(long MessageId, IReadOnlyList<uint> Uids, long? QueueId);

/// <summary>Stored message bytes and index.</summary>
public interface IMessageStore
{
    /// <summary>Starts receiving a message body.</summary>
    IMessageWriter CreateWriter();

    /// <summary>Commits a delivery. When the task completes the blob and every row are durable
    /// (fsynced, committed); a crash before that leaves nothing visible and no leaked reference.
    /// Concurrent calls share one transaction and fsync (group commit).</summary>
    Task<DeliveryResult> CommitAsync(DeliveryRequest request, CancellationToken cancellationToken);

    /// <summary>Opens the raw message bytes (seekable).</summary>
    Task<Stream> OpenMessageAsync(long messageId, CancellationToken cancellationToken);

    /// <summary>The serialized index stored with the message.</summary>
    Task<ReadOnlyMemory<byte>> GetIndexAsync(long messageId, CancellationToken cancellationToken);
}

/// <summary>
/// Optional capability of an <see cref="IMessageStore"/> (test with <c>is</c>): expunges many UIDs
/// of one mailbox with exactly the contract of <see cref="IMailboxStore.ExpungeAsync"/> (one new
/// modseq, a tombstone per UID, one change event, bodies released when their last reference goes,
/// committed and fsynced when the task completes), built for large sets whose bodies are
/// referenced only by the expunged entries (POP3 UPDATE). Without it, callers use ExpungeAsync.
/// </summary>
public interface IBulkExpunge
{
    Task<ExpungeResult> ExpungeManyAsync(long mailboxId, IReadOnlyList<uint> uids, CancellationToken cancellationToken);
}

/// <summary>
/// Optional capability of an <see cref="IMessageStore"/> (test with <c>is</c>): commits several
/// deliveries as one transaction — all of them or none, also across a crash — with the contract
/// of <see cref="IMessageStore.CommitAsync"/> for each (results in request order). RFC 3502
/// MULTIAPPEND uses it; without it, callers commit one by one and undo on failure.
/// </summary>
public interface IAtomicCommit
{
    Task<IReadOnlyList<DeliveryResult>> CommitAllAsync(IReadOnlyList<DeliveryRequest> requests, CancellationToken cancellationToken);
}