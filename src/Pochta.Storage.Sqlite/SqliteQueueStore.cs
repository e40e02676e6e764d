using Microsoft.Data.Sqlite;

namespace Pochta.Storage.Sqlite;

internal sealed class SqliteQueueStore(SqliteMailStore store) : IQueueStore
{
    private const string EntryColumns = "id, message_id, sender, envelope_id, ret_full, created_at";

    private const string RecipientColumns =
        "id, address, notify, orcpt, state, attempts, next_attempt, last_reply, remote_host, delay_notified";

    public Task<IReadOnlyList<QueueEntryInfo>> ListAsync(CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<QueueEntryInfo>>(db => db.Snapshot(db =>
        {
            using var r = db.Query($"SELECT {EntryColumns} FROM queue_entries ORDER BY id");
            return LoadEntries(db, r);
        }), cancellationToken);

    public Task<QueueEntryInfo?> GetAsync(long queueId, CancellationToken cancellationToken) =>
        store.ReadAsync(db => db.Snapshot(db => Get(db, queueId)), cancellationToken);

    public Task<IReadOnlyList<QueueEntryInfo>> GetDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var ms = now.ToUnixTimeMilliseconds();
        return store.ReadAsync<IReadOnlyList<QueueEntryInfo>>(db => db.Snapshot(db =>
        {
            using var r = db.Query(
                $"SELECT {EntryColumns} FROM queue_entries WHERE id IN (" +
                "SELECT queue_id FROM queue_recipients WHERE state IN (0, 1) AND next_attempt <= $now " +
                "GROUP BY queue_id ORDER BY MIN(next_attempt), queue_id LIMIT $limit) ORDER BY id",
                ("$now", ms),
                ("$limit", limit));
            return LoadEntries(db, r);
        }), cancellationToken);
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
                var pending = o.State is RecipientState.Queued or RecipientState.Deferred;
                var changed = ctx.Db.Exec(
                    "UPDATE queue_recipients SET state = $s, attempts = attempts + 1, next_attempt = $n, last_reply = $r, remote_host = $h, delay_notified = $d " +
                    "WHERE id = $id AND queue_id = $q",
                    ("$s", (int)o.State),
                    ("$n", pending ? (o.NextAttemptAt ?? ctx.Now).ToUnixTimeMilliseconds() : null),
                    ("$r", o.Reply),
                    ("$h", o.RemoteHost),
                    ("$d", o.DelayNotified),
                    ("$id", o.RecipientId),
                    ("$q", queueId));
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
        using var r = db.Query($"SELECT {EntryColumns} FROM queue_entries WHERE id = $q", ("$q", queueId));
        return LoadEntries(db, r) is [var entry] ? entry : null;
    }

    private static List<QueueEntryInfo> LoadEntries(Db db, SqliteDataReader r)
    {
        var heads = new List<(long Id, long MessageId, string Sender, string? EnvelopeId, bool Full, long Created)>();
        while (r.Read())
        {
            heads.Add((r.GetInt64(0), r.GetInt64(1), r.GetString(2), Rows.String(r, 3), r.GetBoolean(4), r.GetInt64(5)));
        }

        r.Close();
        var list = new List<QueueEntryInfo>(heads.Count);
        foreach (var h in heads)
        {
            var recipients = new List<QueueRecipientInfo>();
            using (var rr = db.Query($"SELECT {RecipientColumns} FROM queue_recipients WHERE queue_id = $q ORDER BY id", ("$q", h.Id)))
            {
                while (rr.Read())
                {
                    recipients.Add(new QueueRecipientInfo(
                        rr.GetInt64(0),
                        rr.GetString(1),
                        Rows.String(rr, 2),
                        Rows.String(rr, 3),
                        (RecipientState)rr.GetInt32(4),
                        rr.GetInt32(5),
                        Rows.Time(rr, 6),
                        Rows.String(rr, 7),
                        Rows.String(rr, 8),
                        rr.GetBoolean(9)));
                }
            }

            list.Add(new QueueEntryInfo(h.Id, h.MessageId, h.Sender, h.EnvelopeId, h.Full, Rows.Time(h.Created), recipients));
        }

        return list;
    }
}