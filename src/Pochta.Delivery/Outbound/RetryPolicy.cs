namespace Pochta.Delivery.Outbound;

/// <summary>When to try a deferred recipient again, and when to give up.</summary>
public sealed class RetryPolicy(OutboundOptions options)
{
    private readonly IReadOnlyList<TimeSpan> _schedule =
        options.RetrySchedule is { Length: > 0 } s ? s : OutboundOptions.DefaultRetrySchedule;

    public TimeSpan MaxQueueLifetime => options.MaxQueueLifetime;

    /// <summary>The time a recipient expires (fails with a DSN) if still undelivered.</summary>
    public DateTimeOffset ExpiresAt(DateTimeOffset queuedAt) => queuedAt + options.MaxQueueLifetime;

    /// <summary>The next attempt after the <paramref name="attempts"/>-th failed attempt (1-based),
    /// or null when the recipient has expired and must fail now. The last attempt is made at
    /// expiry, so a message is never given up earlier than <see cref="MaxQueueLifetime"/>.</summary>
    public DateTimeOffset? NextAttempt(DateTimeOffset queuedAt, int attempts, DateTimeOffset now)
    {
        var expires = ExpiresAt(queuedAt);
        if (now >= expires)
        {
            return null;
        }

        var delay = _schedule[Math.Clamp(attempts - 1, 0, _schedule.Count - 1)];
        var next = now + delay;
        return next > expires ? expires : next;
    }

    /// <summary>Whether a "delayed" DSN is due for a recipient deferred now.</summary>
    public bool DelayNoticeDue(DateTimeOffset queuedAt, DateTimeOffset now) =>
        now - queuedAt >= options.DelayNotificationAfter;
}

/// <summary>RFC 3461 §4.1 NOTIFY, parsed.</summary>
[Flags]
public enum NotifyFlags
{
    None = 0,
    Success = 1,
    Failure = 2,
    Delay = 4,
    Never = 8,
}

public static class Notify
{
    /// <summary>Parses a NOTIFY value (<c>NEVER</c> or a comma list of SUCCESS, FAILURE, DELAY).
    /// Null (absent) means FAILURE, plus DELAY when <paramref name="delayWhenAbsent"/>
    /// (RFC 3461 §4.1: "at the discretion of the MTA"). Unknown words are ignored.</summary>
    public static NotifyFlags Parse(string? notify, bool delayWhenAbsent)
    {
        if (string.IsNullOrWhiteSpace(notify))
        {
            return delayWhenAbsent ? NotifyFlags.Failure | NotifyFlags.Delay : NotifyFlags.Failure;
        }

        var flags = NotifyFlags.None;
        foreach (var range in notify.AsSpan().Split(','))
        {
            var word = notify.AsSpan()[range].Trim();
            if (word.Equals("NEVER", StringComparison.OrdinalIgnoreCase))
            {
                return NotifyFlags.Never;
            }

            if (word.Equals("SUCCESS", StringComparison.OrdinalIgnoreCase))
            {
                flags |= NotifyFlags.Success;
            }
            else if (word.Equals("FAILURE", StringComparison.OrdinalIgnoreCase))
            {
                flags |= NotifyFlags.Failure;
            }
            else if (word.Equals("DELAY", StringComparison.OrdinalIgnoreCase))
            {
                flags |= NotifyFlags.Delay;
            }
        }

        return flags == NotifyFlags.None ? NotifyFlags.Failure : flags;
    }
}