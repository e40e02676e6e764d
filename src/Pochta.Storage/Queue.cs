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

/// <summary>The durable outbound queue. Status is per recipient; an entry leaves the queue
/// (and releases its message reference) when every recipient is Delivered or Failed.</summary>
public interface IQueueStore
{
    Task<IReadOnlyList<QueueEntryInfo>> ListAsync(CancellationToken cancellationToken);

    Task<QueueEntryInfo?> GetAsync(long queueId, CancellationToken cancellationToken);

    /// <summary>Entries with at least one Queued/Deferred recipient due at or before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<QueueEntryInfo>> GetDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>The earliest next attempt time of any pending recipient, or null when the queue is idle.</summary>
    Task<DateTimeOffset?> GetNextDueAsync(CancellationToken cancellationToken);

    /// <summary>Records attempt outcomes; removes the entry when every recipient is final.</summary>
    Task RecordOutcomesAsync(long queueId, IReadOnlyList<RecipientOutcome> outcomes, CancellationToken cancellationToken);

    /// <summary>Makes pending recipients due now. Null means every entry. Returns how many entries were touched.</summary>
    Task<int> RescheduleNowAsync(long? queueId, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(long queueId, CancellationToken cancellationToken);
}