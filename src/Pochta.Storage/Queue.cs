namespace Pochta.Storage;

public enum RecipientState
{
    Queued,
    Deferred,
    Delivered,
    Failed,
}

public sealed record QueueRecipientInfo(
    long Id,
    string Address,
    string? Notify,
    string? OriginalRecipient,
    RecipientState State,
    int Attempts,
    DateTimeOffset? NextAttemptAt,
    string? LastReply,
    string? RemoteHost,
    bool DelayNotified);

public sealed record QueueEntryInfo(
    long Id,
    long MessageId,
    string Sender,
    string? EnvelopeId,
    bool ReturnFullMessage,
    DateTimeOffset CreatedAt,
    IReadOnlyList<QueueRecipientInfo> Recipients);

/// <summary>Outcome of one delivery attempt for one recipient.</summary>
/// <param name="Reply">The remote reply or local error text (for DSN Diagnostic-Code).</param>
public sealed record RecipientOutcome(long RecipientId, RecipientState State, string? Reply, string? RemoteHost, DateTimeOffset? NextAttemptAt, bool DelayNotified);

/// <summary>The outcomes of one attempt for some recipients of one queue entry.</summary>
public sealed record QueueEntryOutcomes(long QueueId, IReadOnlyList<RecipientOutcome> Outcomes);

/// <summary>The durable outbound queue. Status is per recipient; an entry leaves the queue
/// (and releases its message reference) when every recipient is Delivered or Failed.</summary>
public interface IQueueStore
{
    Task<IReadOnlyList<QueueEntryInfo>> ListAsync(CancellationToken cancellationToken);

    Task<QueueEntryInfo?> GetAsync(long queueId, CancellationToken cancellationToken);

    /// <summary>Entries with at least one Queued/Deferred recipient due at or before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<QueueEntryInfo>> GetDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>As <see cref="GetDueAsync(DateTimeOffset, int, CancellationToken)"/>, but a recipient
    /// whose id is in <paramref name="excludedRecipients"/> (the caller's work in flight) does not
    /// make its entry due. Each entry still lists all its recipients.</summary>
    Task<IReadOnlyList<QueueEntryInfo>> GetDueAsync(DateTimeOffset now, int limit, IReadOnlyCollection<long> excludedRecipients, CancellationToken cancellationToken);

    /// <summary>The earliest next attempt time of any pending recipient, or null when the queue is idle.</summary>
    Task<DateTimeOffset?> GetNextDueAsync(CancellationToken cancellationToken);

    /// <summary>Records attempt outcomes; removes the entry when every recipient is final.</summary>
    Task RecordOutcomesAsync(long queueId, IReadOnlyList<RecipientOutcome> outcomes, CancellationToken cancellationToken);

    /// <summary>Records the outcomes of several entries in one write (one transaction), in
    /// order; each entry whose every recipient is final is removed. An entry that no longer
    /// exists, or that lacks one of the named recipients, is left unchanged and its id returned;
    /// the others are recorded.</summary>
    Task<IReadOnlyList<long>> RecordOutcomesAsync(IReadOnlyList<QueueEntryOutcomes> entries, CancellationToken cancellationToken);

    /// <summary>Makes pending recipients due now. Null means every entry. Returns how many entries were touched.</summary>
    Task<int> RescheduleNowAsync(long? queueId, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(long queueId, CancellationToken cancellationToken);
}