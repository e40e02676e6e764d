using Microsoft.Data.Sqlite;

using SQLitePCL;

namespace Pochta.Storage.Sqlite;

internal sealed class SqliteMessageStore(SqliteMailStore store) : IMessageStore, IBulkExpunge, IAtomicCommit
{
    /// <summary>The same operation as <see cref="IMailboxStore.ExpungeAsync"/>: since schema
    /// migration 4 every expunge is set-based and leaves the bodies to the reclaimer.</summary>
    public Task<ExpungeResult> ExpungeManyAsync(long mailboxId, IReadOnlyList<uint> uids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uids);
        return store.Mailboxes.ExpungeAsync(mailboxId, uids, cancellationToken);
    }

    public IMessageWriter CreateWriter()
    {
        _ = store.Writer;
        return new MessageWriter(store.TempDirectory, store.Options.SmallBlobThreshold);
    }

    public async Task<DeliveryResult> CommitAsync(DeliveryRequest request, CancellationToken cancellationToken) =>
        (await CommitAllAsync([request], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>One write operation (one savepoint of a group commit): a failure of any request
    /// (quota, a missing mailbox) rolls every one of them back.</summary>
    public async Task<IReadOnlyList<DeliveryResult>> CommitAllAsync(IReadOnlyList<DeliveryRequest> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            return [];
        }

        var prepared = new List<Prepared>(requests.Count);
        try
        {
            foreach (var request in requests)
            {
                prepared.Add(await PrepareAsync(request).ConfigureAwait(false));
            }

            return await store.WriteAsync(
                ctx => prepared.ConvertAll(p => Commit(ctx, p.Request, p.Hash, p.Length, p.Inline, p.Index)),
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var p in prepared)
            {
                if (p.Inline is null)
                {
                    Unpin(p.Hash);
                }
            }
        }
    }

    private async Task<Prepared> PrepareAsync(DeliveryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Local.Count == 0 && request.Remote.Count == 0)
        {
            throw new ArgumentException("A delivery needs at least one local or remote recipient.", nameof(request));
        }

        var index = request.Index.ToArray();
        var hash = request.Message.ContentHash;
        var length = request.Message.Length;
        switch (request.Message)
        {
            case MemoryStagedMessage memory:
                return new Prepared(request, hash, length, memory.Bytes, index);
            case FileStagedMessage file:
                // The file is durable under its content name before the row that names it can
                // commit; it stays marked in flight until the transaction is over.
                store.Blobs.Acquire(hash);
                try
                {
                    store.Blobs.Publish(file.Path, hash);
                    if (store.Options.AfterBlobWritten is { } hook)
                    {
                        await hook().ConfigureAwait(false);
                    }
                }
                catch
                {
                    Unpin(hash);
                    throw;
                }

                return new Prepared(request, hash, length, null, index);
            default:
                throw new ArgumentException("The staged message was not created by this store.", nameof(request));
        }
    }

    /// <summary>A request ready to commit: its body's hash, and the inline bytes (null: a file
    /// blob, pinned until the transaction is over).</summary>
    private sealed record Prepared(DeliveryRequest Request, string Hash, long Length, byte[]? Inline, byte[] Index);

    /// <summary>A message whose last entry and queue entry are gone no longer exists for readers,
    /// exactly as before reclamation became lazy, although its rows wait for the reclaimer (two
    /// index probes).</summary>
    private const string Referenced =
        "(EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = m.id) OR EXISTS (SELECT 1 FROM queue_entries q WHERE q.message_id = m.id))";

    /// <summary>The body lookup: whether the body is a file, its hash, and the inline bytes. One
    /// statement is one read snapshot, so the bytes belong to the row the lookup found.</summary>
    private const string BodySql =
        "SELECT typeof(b.data) = 'null', b.hash, b.data FROM messages m JOIN blobs b ON b.hash = m.blob_hash WHERE m.id = ?1 AND " + Referenced;

    public Task<Stream> OpenMessageAsync(long messageId, CancellationToken cancellationToken) =>
        store.ReadAsync<Stream>(db =>
        {
            // Every RETR and body FETCH runs this: one prepared statement stepped through SQLitePCL,
            // the inline body (at most SmallBlobThreshold) copied once from SQLite's value into a
            // pooled buffer (no per-message allocation, no per-message sqlite3_blob_open compile).
            var stmt = db.Raw(BodySql);
            try
            {
                raw.sqlite3_bind_int64(stmt, 1, messageId);
                var rc = raw.sqlite3_step(stmt);
                if (rc == raw.SQLITE_DONE)
                {
                    throw new StoreNotFoundException("No such message.");
                }

                if (rc != raw.SQLITE_ROW)
                {
                    SqliteException.ThrowExceptionForRC(rc, db.Connection.Handle);
                }

                if (raw.sqlite3_column_int(stmt, 0) != 0)
                {
                    // Opened while the statement still holds its snapshot.
                    return OpenFile(raw.sqlite3_column_text(stmt, 1).utf8_to_string());
                }

                return PooledMemoryStream.CopyOf(raw.sqlite3_column_blob(stmt, 2));
            }
            finally
            {
                raw.sqlite3_reset(stmt);
            }
        }, cancellationToken);

    private FileStream OpenFile(string hash)
    {
        // Opened while the snapshot shows the row: a concurrent unlink (last reference gone)
        // cannot take the bytes from under this stream on POSIX.
        try
        {
            return new FileStream(store.Blobs.PathOf(hash), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            // Its last reference went between the lookup and the open.
            throw new StoreNotFoundException("No such message.");
        }
    }

    public Task<ReadOnlyMemory<byte>> GetIndexAsync(long messageId, CancellationToken cancellationToken) =>
        store.ReadAsync(db =>
        {
            var value = db.Scalar("SELECT index_data FROM messages m WHERE m.id = $id AND " + Referenced, ("$id", messageId))
                ?? throw new StoreNotFoundException("No such message.");
            return new ReadOnlyMemory<byte>((byte[])value);
        }, cancellationToken);

    private static DeliveryResult Commit(WriteContext ctx, DeliveryRequest request, string hash, long length, byte[]? inline, byte[] index)
    {
        var db = ctx.Db;

        // One blob per content hash; a repeated body is named by one more message. A blob listed
        // for reclamation survives because the reclaimer rechecks for naming messages.
        db.Exec(
            "INSERT INTO blobs(hash, size, data) VALUES($h, $s, $d) ON CONFLICT(hash) DO NOTHING",
            ("$h", hash),
            ("$s", length),
            ("$d", inline));
        var messageId = db.Long(
            "INSERT INTO messages(blob_hash, size, index_data, created_at) VALUES($h, $s, $i, $t) RETURNING id",
            ("$h", hash),
            ("$s", length),
            ("$i", index),
            ("$t", ctx.NowMs));

        var uids = new List<uint>(request.Local.Count);
        foreach (var local in request.Local)
        {
            var keywords = Rows.StoreKeywords(local.Keywords);
            var (uid, modSeq) = Rows.Append(ctx, local.MailboxId, messageId, length, local.Flags, keywords, local.InternalDate, out var accountId);
            uids.Add(uid);
            ctx.Publish(accountId, local.MailboxId, MailboxChangeKind.Appended, modSeq);
        }

        long? queueId = null;
        if (request.Remote.Count > 0)
        {
            queueId = db.Long(
                "INSERT INTO queue_entries(message_id, sender, envelope_id, ret_full, created_at) VALUES($m, $s, $e, $r, $t) RETURNING id",
                ("$m", messageId),
                ("$s", request.Sender ?? ""),
                ("$e", request.Dsn?.EnvelopeId),
                ("$r", request.Dsn?.ReturnFullMessage ?? false),
                ("$t", ctx.NowMs));
            foreach (var rcpt in request.Remote)
            {
                db.Exec(
                    "INSERT INTO queue_recipients(queue_id, address, notify, orcpt, state, attempts, next_attempt, delay_notified) VALUES($q, $a, $n, $o, 0, 0, $t, 0)",
                    ("$q", queueId),
                    ("$a", rcpt.Address),
                    ("$n", rcpt.Notify),
                    ("$o", rcpt.OriginalRecipient),
                    ("$t", ctx.NowMs));
            }
        }

        return new DeliveryResult(messageId, uids, queueId);
    }

    /// <summary>Ends this committer's claim on a blob file; if its transaction failed and no
    /// one else references the hash, the file goes now (else at the next start).</summary>
    private void Unpin(string hash)
    {
        store.Blobs.Release(hash);
        try
        {
            store.Blobs.Collect([hash], h => store.Read(db => db.Scalar("SELECT 1 FROM blobs WHERE hash = $h", ("$h", h)) is not null));
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or IOException)
        {
            // Store closing or file busy: recovery collects the file at the next start.
        }
    }
}