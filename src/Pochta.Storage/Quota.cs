namespace Pochta.Storage;

/// <summary>The resources a quota limits (RFC 9208 §5: STORAGE and MESSAGE).</summary>
public enum QuotaResource
{
    /// <summary>Sum of the sizes of every message in every mailbox of the account, in octets
    /// (a message copied into two mailboxes counts twice).</summary>
    Storage,

    /// <summary>Number of messages in every mailbox of the account.</summary>
    Messages,
}

/// <summary>An account's usage and limits. A limit of 0 means unlimited.</summary>
public sealed record QuotaUsage(long AccountId, long UsedBytes, long UsedMessages, long LimitBytes, long LimitMessages)
{
    /// <summary>True when any limit is set.</summary>
    public bool HasLimit => LimitBytes > 0 || LimitMessages > 0;

    /// <summary>True when no further message fits: a limit is reached or passed.</summary>
    public bool IsFull => (LimitBytes > 0 && UsedBytes >= LimitBytes) || (LimitMessages > 0 && UsedMessages >= LimitMessages);

    /// <summary>Whether one more message of <paramref name="size"/> octets fits now.</summary>
    public bool Fits(long size) =>
        (LimitBytes == 0 || UsedBytes + size <= LimitBytes) && (LimitMessages == 0 || UsedMessages + 1 <= LimitMessages);
}

/// <summary>Thrown by a write (delivery commit, APPEND, COPY, MOVE) that would take an account
/// past one of its limits. The whole operation is rolled back: nothing of it is visible.
/// Operations that do not increase usage (expunge, a MOVE inside one account) never raise it,
/// even for an account already over its limit (e.g. after the limit was lowered).</summary>
public sealed class QuotaExceededException(long accountId, QuotaResource resource, long limit)
    : Exception("The mailbox quota would be exceeded.")
{
    public long AccountId { get; } = accountId;

    public QuotaResource Resource { get; } = resource;

    /// <summary>The limit that would be passed (octets or messages).</summary>
    public long Limit { get; } = limit;
}