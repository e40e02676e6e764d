using SQLitePCL;

namespace Pochta.Storage.Sqlite;

/// <summary>
/// <see cref="IBulkExpunge"/> for SQLite: the end state of <see cref="IMailboxStore.ExpungeAsync"/>
/// (entries gone, a tombstone per UID with one new modseq, highest_modseq, one change event,
/// bodies released by reference count), reached more cheaply when an expunged entry holds the
/// only reference to its message and the message the only reference to its blob (every POP3
/// download-and-delete of ordinary mail).
/// <para>Why: the trigger cascade of an entry delete updates the message's refcount (the row is
/// rebuilt, its ~body-sized search index read), deletes it, updates the blob's refcount (the body
/// read again) and deletes the blob: each large record is read about twice. Deleting bottom-up
/// (blob, message, then the entry, whose triggers then find nothing to decrement) reads each once:
/// about a third of the time for 1,000 typical messages (docs/architecture.md, POP3).</para>
/// <para>The bottom-up order breaks foreign keys for a moment, so they are deferred inside this
/// operation only and must be whole again before it ends (else it rolls back alone). File blobs are
/// queued in <c>blob_garbage</c> as the blobs trigger would do. Entries whose message or blob is
/// shared (COPY, the outbound queue, identical bodies) take the ordinary cascade.</para>
/// </summary>
internal static class BulkExpunge
{
    public static Task<ExpungeResult> RunAsync(SqliteMailStore store, long mailboxId, IReadOnlyList<uint> uids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uids);
        var json = Rows.JsonIds(uids);
        return store.WriteAsync(ctx => Run(ctx, mailboxId, json), cancellationToken);
    }

    private static ExpungeResult Run(WriteContext ctx, long mailboxId, string json)
    {
        var db = ctx.Db;
        var mailbox = Rows.RequireMailbox(db, mailboxId);
        var entries = new List<Entry>();

        // typeof() tells a file blob (NULL data) without loading an inline body.
        using (var r = db.Query(
            "SELECT mm.uid, mm.message_id, m.refcount, b.id, b.refcount, typeof(b.data) = 'null', b.hash " +
            "FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id JOIN blobs b ON b.hash = m.blob_hash " +
            "WHERE mm.mailbox_id = $m AND mm.uid IN (SELECT value FROM json_each($u)) ORDER BY mm.uid",
            ("$m", mailboxId),
            ("$u", json)))
        {
            while (r.Read())
            {
                entries.Add(new Entry((uint)r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetBoolean(5), r.GetString(6)));
            }
        }

        if (entries.Count == 0)
        {
            return new ExpungeResult(mailbox.HighestModSeq, []);
        }

        var modSeq = mailbox.HighestModSeq + 1;
        var sole = entries.Where(e => e.MessageRefs == 1 && e.BlobRefs == 1).ToList();
        var uids = Rows.JsonIds(entries.Select(e => e.Uid));
        db.Exec("PRAGMA defer_foreign_keys = ON");
        try
        {
            // Set-based: a handful of statements for the whole maildrop, not four per message.
            if (sole.Count > 0)
            {
                db.Exec("DELETE FROM blobs WHERE id IN (SELECT value FROM json_each($b))", ("$b", Rows.JsonIds(sole.Select(e => e.BlobId))));
                var files = sole.Where(e => e.IsFile).Select(e => e.Hash).ToList();
                if (files.Count > 0)
                {
                    // Content hashes are lower-case hex: safe as JSON strings without escaping.
                    db.Exec("INSERT INTO blob_garbage(hash) SELECT value FROM json_each($h)", ("$h", "[\"" + string.Join("\",\"", files) + "\"]"));
                }

                db.Exec("DELETE FROM messages WHERE id IN (SELECT value FROM json_each($i))", ("$i", Rows.JsonIds(sole.Select(e => e.MessageId))));
            }

            db.Exec("DELETE FROM mailbox_messages WHERE mailbox_id = $m AND uid IN (SELECT value FROM json_each($u))", ("$m", mailboxId), ("$u", uids));
            db.Exec("INSERT OR REPLACE INTO tombstones(mailbox_id, uid, modseq) SELECT $m, value, $s FROM json_each($u)", ("$m", mailboxId), ("$u", uids), ("$s", (long)modSeq));

            // Every reference removed bottom-up is gone by now; anything else is a bug, and the
            // operation's savepoint is rolled back rather than failing the whole batch at COMMIT.
            var rc = raw.sqlite3_db_status(db.Connection.Handle, raw.SQLITE_DBSTATUS_DEFERRED_FKS, out var pending, out _, 0);
            if (rc != raw.SQLITE_OK || pending != 0)
            {
                throw new InvalidOperationException("Bulk expunge left a foreign key unresolved.");
            }
        }
        finally
        {
            db.Exec("PRAGMA defer_foreign_keys = OFF");
        }

        db.Exec("UPDATE mailboxes SET highest_modseq = $s WHERE id = $m", ("$s", (long)modSeq), ("$m", mailboxId));
        ctx.Publish(mailbox.AccountId, mailboxId, MailboxChangeKind.Expunged, modSeq);
        return new ExpungeResult(modSeq, entries.ConvertAll(e => e.Uid));
    }

    private readonly record struct Entry(uint Uid, long MessageId, long MessageRefs, long BlobId, long BlobRefs, bool IsFile, string Hash);
}