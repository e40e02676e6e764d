using Microsoft.Data.Sqlite;

namespace Pochta.Storage.Sqlite;

internal sealed class SqliteQueueStore(SqliteMailStore store) : IQueueStore
{
    /// <summary>An entry's columns then its recipients' (LEFT JOIN: one row per recipient), for <see cref="LoadEntries"/>.</summary>
    private const string EntryRows =
        "SELECT e.id, e.message_id, e.sender, e.envelope_id, e.ret_full, e.created_at, " +
        "r.id, r.address, r.notify, r.orcpt, r.state, r.attempts, r.next_attempt, r.last_reply, r.remote_host, r.delay_notified " +
        "FROM queue_entries e LEFT JOIN queue_recipients r ON r.queue_id = e.id ";

    public Task<IReadOnlyList<QueueEntryInfo>> ListAsync(CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<QueueEntryInfo>>(db => db.Snapshot(db =>
        {
            using var r = db.Query(EntryRows + "ORDER BY e.id, r.id");
            return LoadEntries(r);
        }), cancellationToken);

    public Task<QueueEntryInfo?> GetAsync(long queueId, CancellationToken cancellationToken) =>
        store.ReadAsync(db => db.Snapshot(db => Get(db, queueId)), cancellationToken);

    public Task<IReadOnlyList<QueueEntryInfo>> GetDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        GetDueAsync(now, limit, [], cancellationToken);

    public Task<IReadOnlyList<QueueEntryInfo>> GetDueAsync(DateTimeOffset now, int limit, IReadOnlyCollection<long> excludedRecipients, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentNullException.ThrowIfNull(excludedRecipients);
        var ms = now.ToUnixTimeMilliseconds();

        // One statement: the due index gives the pending recipients, the excluded ones (in
        // flight) are dropped before grouping, and the chosen entries come back with all
        // their recipients in one ordered pass (not one query per entry).
        var excluded = excludedRecipients.Count == 0 ? "" : "AND id NOT IN (SELECT value FROM json_each($x)) ";
        var sql = EntryRows +
            "WHERE e.id IN (SELECT queue_id FROM queue_recipients WHERE state IN (0, 1) AND next_attempt <= $now " + excluded +
            "GROUP BY queue_id ORDER BY MIN(next_attempt), queue_id LIMIT $limit) ORDER BY e.id, r.id";
        return store.ReadAsync<IReadOnlyList<QueueEntryInfo>>(db =>
        {
            using var r = excludedRecipients.Count == 0
                ? db.Query(sql, ("$now", ms), ("$limit", limit))
                : db.Query(sql, ("$now", ms), ("$limit", limit), ("$x", Rows.JsonIds(excludedRecipients)));
            return LoadEntries(r);
        }, cancellationToken);
    }

    public Task<DateTimeOffset?> GetNextDueAsync(CancellationToken cancellationToken) =>
        store.ReadAsync(db =>
            db.Scalar("SELECT MIN(next_attempt) FROM queue_recipients WHERE state IN (0, 1)") is long ms ? Rows.Time(ms) : (DateTimeOffset?)null,
            cancellationToken);

    public Task RecordOutcomesAsync(long queueId, IReadOnlyList<RecipientOutcome> outcomes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT 1 FROM queue_entries WHERE id = $q", ("$q", queueId)) is null)
            {
                throw new StoreNotFoundException("No such queue entry.");
            }

            foreach (var o in outcomes)
            {
                var changed = UpdateRecipient(ctx, queueId, o);
                if (changed == 0)
                {
                    throw new StoreNotFoundException("The recipient is not in this queue entry.");
                }
            }

            // Every recipient final: the entry goes and its message reference with it (trigger).
            if (ctx.Db.Scalar("SELECT 1 FROM queue_recipients WHERE queue_id = $q AND state IN (0, 1) LIMIT 1", ("$q", queueId)) is null)
            {
                ctx.Db.Exec("DELETE FROM queue_entries WHERE id = $q", ("$q", queueId));
            }

            return true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<long>> RecordOutcomesAsync(IReadOnlyList<QueueEntryOutcomes> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return store.WriteAsync<IReadOnlyList<long>>(ctx =>
        {
            List<long>? missing = null;
            foreach (var entry in entries)
            {
                // Each entry alone: one that went meanwhile (queue delete) or names a recipient
                // it does not have changes nothing and does not fail its neighbours.
                ctx.Db.Exec("SAVEPOINT outcome");
                var recorded = true;
                foreach (var o in entry.Outcomes)
                {
                    if (UpdateRecipient(ctx, entry.QueueId, o) == 0)
                    {
                        recorded = false;
                        break;
                    }
                }

                if (recorded && entry.Outcomes.Count == 0)
                {
                    recorded = ctx.Db.Scalar("SELECT 1 FROM queue_entries WHERE id = $q", ("$q", entry.QueueId)) is not null;
                }

                if (!recorded)
                {
                    ctx.Db.Exec("ROLLBACK TO outcome");
                    (missing ??= []).Add(entry.QueueId);
                }
                else
                {
                    // Every recipient final: the entry goes and its message reference with it (trigger).
                    ctx.Db.Exec(
                        "DELETE FROM queue_entries WHERE id = $q AND NOT EXISTS (SELECT 1 FROM queue_recipients WHERE queue_id = $q AND state IN (0, 1))",
                        ("$q", entry.QueueId));
                }

                ctx.Db.Exec("RELEASE outcome");
            }

            return missing ?? (IReadOnlyList<long>)[];
        }, cancellationToken);
    }

    private static int UpdateRecipient(WriteContext ctx, long queueId, RecipientOutcome o)
    {
        var pending = o.State is RecipientState.Queued or RecipientState.Deferred;
        return ctx.Db.Exec(
            "UPDATE queue_recipients SET state = $s, attempts = attempts + 1, next_attempt = $n, last_reply = $r, remote_host = $h, delay_notified = $d " +
            "WHERE id = $id AND queue_id = $q",
            ("$s", (int)o.State),
            ("$n", pending ? (o.NextAttemptAt ?? ctx.Now).ToUnixTimeMilliseconds() : null),
            ("$r", o.Reply),
            ("$h", o.RemoteHost),
            ("$d", o.DelayNotified),
            ("$id", o.RecipientId),
            ("$q", queueId));
    }

    public Task<int> RescheduleNowAsync(long? queueId, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var count = queueId is { } id
                ? ctx.Db.Long("SELECT COUNT(DISTINCT queue_id) FROM queue_recipients WHERE queue_id = $q AND state IN (0, 1)", ("$q", id))
                : ctx.Db.Long("SELECT COUNT(DISTINCT queue_id) FROM queue_recipients WHERE state IN (0, 1)");
            if (queueId is { } q)
            {
                ctx.Db.Exec("UPDATE queue_recipients SET next_attempt = $n WHERE queue_id = $q AND state IN (0, 1)", ("$n", ctx.NowMs), ("$q", q));
            }
            else
            {
                ctx.Db.Exec("UPDATE queue_recipients SET next_attempt = $n WHERE state IN (0, 1)", ("$n", ctx.NowMs));
            }

            return (int)count;
        }, cancellationToken);

    public Task<bool> DeleteAsync(long queueId, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => ctx.Db.Exec("DELETE FROM queue_entries WHERE id = $q", ("$q", queueId)) > 0, cancellationToken);

    private static QueueEntryInfo? Get(Db db, long queueId)
    {
        using var r = db.Query(EntryRows + "WHERE e.id = $q ORDER BY r.id", ("$q", queueId));
        return LoadEntries(r) is [var entry] ? entry : null;
    }

    /// <summary>Reads <see cref="EntryRows"/> ordered by entry id (recipients in order within each).</summary>
    private static List<QueueEntryInfo> LoadEntries(SqliteDataReader r)
    {
        var list = new List<QueueEntryInfo>();
        long current = 0;
        List<QueueRecipientInfo>? recipients = null;
        (long MessageId, string Sender, string? EnvelopeId, bool Full, long Created) head = (0, "", null, false, 0);
        while (r.Read())
        {
            var id = r.GetInt64(0);
            if (recipients is null || id != current)
            {
                if (recipients is not null)
                {
                    list.Add(new QueueEntryInfo(current, head.MessageId, head.Sender, head.EnvelopeId, head.Full, Rows.Time(head.Created), recipients));
                }

                current = id;
                head = (r.GetInt64(1), r.GetString(2), Rows.String(r, 3), r.GetBoolean(4), r.GetInt64(5));
                recipients = [];
            }

            if (!r.IsDBNull(6))
            {
                recipients.Add(new QueueRecipientInfo(
                    r.GetInt64(6),
                    r.GetString(7),
                    Rows.String(r, 8),
                    Rows.String(r, 9),
                    (RecipientState)r.GetInt32(10),
                    r.GetInt32(11),
                    Rows.Time(r, 12),
                    Rows.String(r, 13),
                    Rows.String(r, 14),
                    r.GetBoolean(15)));
            }
        }

        if (recipients is not null)
        {
            list.Add(new QueueEntryInfo(current, head.MessageId, head.Sender, head.EnvelopeId, head.Full, Rows.Time(head.Created), recipients));
        }

        return list;
    }
}