using Pochta.Core;

namespace Pochta.Storage;

/// <summary>
/// A mailbox as stored. <see cref="Name"/> is the full hierarchical name in UTF-8 with
/// <c>/</c> as delimiter; INBOX is always stored as <c>INBOX</c>. Protocol encodings
/// (modified UTF-7) are the protocol layer's business.
/// </summary>
public sealed record MailboxInfo(
    long Id,
    long AccountId,
    string Name,
    SpecialUse SpecialUse,
    uint UidValidity,
    uint UidNext,
    ulong HighestModSeq,
    bool Subscribed);

/// <summary>Counters for STATUS and JMAP (RFC 9051 §6.3.11).</summary>
public sealed record MailboxCounts(int Messages, int Unseen, int Deleted, long Size, int Recent);

/// <summary>One message in one mailbox. <see cref="MessageId"/> identifies the stored message
/// (shared by every mailbox holding a copy); <see cref="Uid"/> is per mailbox.</summary>
public sealed record MessageEntry(
    uint Uid,
    long MessageId,
    MessageFlags Flags,
    IReadOnlyList<string> Keywords,
    ulong ModSeq,
    DateTimeOffset InternalDate,
    long Size);

/// <summary>What changed in a mailbox after a given modseq: entries whose flags changed or
/// that were added (ascending UID), and UIDs expunged since (from tombstones).</summary>
public sealed record MailboxChanges(
    ulong HighestModSeq,
    uint UidNext,
    IReadOnlyList<MessageEntry> Changed,
    IReadOnlyList<uint> Expunged);

public enum FlagOperation
{
    Replace,
    Add,
    Remove,
}

/// <param name="Updated">Entries after the change (only those that actually changed get a new modseq).</param>
/// <param name="Conflicts">UIDs skipped because their modseq exceeded UNCHANGEDSINCE (RFC 7162 §3.1.3).</param>
public sealed record StoreFlagsResult(ulong HighestModSeq, IReadOnlyList<MessageEntry> Updated, IReadOnlyList<uint> Conflicts);

/// <param name="SourceUids">UIDs that were copied, ascending; <param name="DestinationUids"> in the same order.</param>
public sealed record CopyResult(uint DestinationUidValidity, IReadOnlyList<uint> SourceUids, IReadOnlyList<uint> DestinationUids);

public sealed record ExpungeResult(ulong HighestModSeq, IReadOnlyList<uint> Expunged);

/// <summary>
/// Protocol-neutral mailbox operations. Every mutating call is one committed, fsynced
/// transaction when its task completes (group commit across callers), bumps the mailbox's
/// HIGHESTMODSEQ, and publishes a <see cref="MailboxChange"/> on the change bus after commit.
/// UIDs strictly increase and are never reused; UIDVALIDITY never changes for a mailbox.
/// </summary>
public interface IMailboxStore
{
    Task<IReadOnlyList<MailboxInfo>> ListMailboxesAsync(long accountId, CancellationToken cancellationToken);

    /// <summary>Finds by exact name; <c>INBOX</c> matches case-insensitively.</summary>
    Task<MailboxInfo?> FindMailboxAsync(long accountId, string name, CancellationToken cancellationToken);

    Task<MailboxInfo?> GetMailboxAsync(long mailboxId, CancellationToken cancellationToken);

    /// <summary>Creates a mailbox with a fresh UIDVALIDITY. Raises <see cref="StoreConflictException"/> if it exists.</summary>
    Task<MailboxInfo> CreateMailboxAsync(long accountId, string name, SpecialUse specialUse, CancellationToken cancellationToken);

    /// <summary>Deletes the mailbox and its messages (blob references released). Children are untouched.</summary>
    Task DeleteMailboxAsync(long mailboxId, CancellationToken cancellationToken);

    /// <summary>Renames one mailbox (children are renamed by the caller, inferior names first-class rows).
    /// UIDVALIDITY is kept (RFC 9051 §6.3.6).</summary>
    Task RenameMailboxAsync(long mailboxId, string newName, CancellationToken cancellationToken);

    Task SetSubscribedAsync(long accountId, string name, bool subscribed, CancellationToken cancellationToken);

    /// <summary>Subscriptions are by name and may name mailboxes that do not exist (RFC 9051 §6.3.7).</summary>
    Task<IReadOnlyList<string>> ListSubscriptionsAsync(long accountId, CancellationToken cancellationToken);

    Task<MailboxCounts> GetCountsAsync(long mailboxId, CancellationToken cancellationToken);

    /// <summary>Every message in the mailbox, ascending UID.</summary>
    Task<IReadOnlyList<MessageEntry>> ListMessagesAsync(long mailboxId, CancellationToken cancellationToken);

    Task<MailboxChanges> GetChangesSinceAsync(long mailboxId, ulong modSeq, CancellationToken cancellationToken);

    /// <summary>RFC 3501 \Recent: atomically returns the first UID this caller sees as recent
    /// and advances the mailbox's recent boundary to UIDNEXT.</summary>
    Task<uint> ClaimRecentAsync(long mailboxId, CancellationToken cancellationToken);

    Task<StoreFlagsResult> StoreFlagsAsync(
        long mailboxId,
        IReadOnlyList<uint> uids,
        FlagOperation operation,
        MessageFlags flags,
        IReadOnlyList<string> keywords,
        ulong? unchangedSince,
        CancellationToken cancellationToken);

    /// <summary>Expunges the given UIDs, or when null every message flagged \Deleted.
    /// Each expunged UID leaves a tombstone with the new modseq.</summary>
    Task<ExpungeResult> ExpungeAsync(long mailboxId, IReadOnlyList<uint>? uids, CancellationToken cancellationToken);

    Task<CopyResult> CopyAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken);

    /// <summary>Copy then expunge from the source, in one transaction (RFC 6851).</summary>
    Task<CopyResult> MoveAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken);
}