namespace Pochta.Storage.Sqlite;

/// <summary>
/// Lazy reclamation of message storage (schema migration 4). Deleting a mailbox entry or a queue
/// entry (expunge, POP3 UPDATE, MOVE, mailbox or account deletion, queue completion) only lists
/// its message in <c>message_garbage</c>: the caller's transaction never rewrites or deletes a
/// body-sized row. A step here frees part of that list: each listed message that no
/// <c>mailbox_messages</c> or <c>queue_entries</c> row names any more, then each of their blobs
/// that no <c>messages</c> row names, queueing file blobs in <c>blob_garbage</c> (the writer
/// unlinks them after the COMMIT, under <see cref="BlobFiles"/>' in-flight rule).
/// <para>Every reference is rechecked at collection time, inside the writer's serialized
/// transaction: a COPY committed before the step keeps its message, and a new delivery of
/// the same bytes (<see cref="SqliteMessageStore"/> reuses a blob by hash) keeps or re-creates the
/// blob, whichever order the two take. The list is durable, so a crash or stop between an
/// expunge and its reclamation loses nothing and leaks nothing: the next owner resumes.</para>
/// <para>Steps run as background work of <see cref="GroupCommitWriter"/> (only while no foreground
/// write waits), or synchronously through <see cref="SqliteMailStore.ReclaimAsync"/>.</para>
/// </summary>
internal static class Reclaimer
{
    /// <summary>Whether anything is listed (one lookup on an indexed table).</summary>
    public static bool HasWork(Db db) => db.Scalar("SELECT 1 FROM message_garbage LIMIT 1") is not null;

    /// <summary>Frees up to <paramref name="limit"/> listed messages with their unshared blobs.
    /// Returns whether more may be listed.</summary>
    public static bool Step(WriteContext ctx, int limit)
    {
        var db = ctx.Db;
        var ids = new List<long>(limit);
        using (var r = db.Query("SELECT message_id FROM message_garbage ORDER BY message_id LIMIT $n", ("$n", limit)))
        {
            while (r.Read())
            {
                ids.Add(r.GetInt64(0));
            }
        }

        if (ids.Count == 0)
        {
            return false;
        }

        var json = Rows.JsonIds(ids);
        db.Exec("DELETE FROM message_garbage WHERE message_id IN (SELECT value FROM json_each($i))", ("$i", json));

        // A message still named by an entry or a queue entry (a COPY, RENAME INBOX, a re-listed id)
        // is simply dropped from the list; it is listed again when that reference goes.
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        using (var r = db.Query(
            "DELETE FROM messages WHERE id IN (SELECT value FROM json_each($i)) " +
            "AND NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = messages.id) " +
            "AND NOT EXISTS (SELECT 1 FROM queue_entries q WHERE q.message_id = messages.id) RETURNING blob_hash",
            ("$i", json)))
        {
            while (r.Read())
            {
                hashes.Add(r.GetString(0));
            }
        }

        if (hashes.Count == 0)
        {
            return ids.Count == limit;
        }

        // Content hashes are lower-case hex: safe as JSON strings without escaping.
        var hashJson = "[\"" + string.Join("\",\"", hashes) + "\"]";
        List<string>? files = null;
        using (var r = db.Query(
            "DELETE FROM blobs WHERE hash IN (SELECT value FROM json_each($h)) " +
            "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_hash = blobs.hash) RETURNING hash, typeof(data) = 'null'",
            ("$h", hashJson)))
        {
            while (r.Read())
            {
                if (r.GetBoolean(1))
                {
                    (files ??= []).Add(r.GetString(0));
                }
            }
        }

        if (files is not null)
        {
            db.Exec("INSERT INTO blob_garbage(hash) SELECT value FROM json_each($h)", ("$h", "[\"" + string.Join("\",\"", files) + "\"]"));
        }

        return ids.Count == limit;
    }
}