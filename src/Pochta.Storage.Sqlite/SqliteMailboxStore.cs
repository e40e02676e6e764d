using Pochta.Core;

namespace Pochta.Storage.Sqlite;

internal sealed class SqliteMailboxStore(SqliteMailStore store) : IMailboxStore
{
    public Task<IReadOnlyList<MailboxInfo>> ListMailboxesAsync(long accountId, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<MailboxInfo>>(db =>
        {
            using var r = db.Query($"SELECT {Rows.MailboxColumns} FROM mailboxes m WHERE m.account_id = $a ORDER BY m.name", ("$a", accountId));
            var list = new List<MailboxInfo>();
            while (r.Read())
            {
                list.Add(Rows.Mailbox(r));
            }

            return list;
        }, cancellationToken);

    public Task<MailboxInfo?> FindMailboxAsync(long accountId, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var stored = Rows.MailboxName(name);
        return store.ReadAsync(db =>
        {
            using var r = db.Query($"SELECT {Rows.MailboxColumns} FROM mailboxes m WHERE m.account_id = $a AND m.name = $n", ("$a", accountId), ("$n", stored));
            return r.Read() ? Rows.Mailbox(r) : null;
        }, cancellationToken);
    }

    public Task<MailboxInfo?> GetMailboxAsync(long mailboxId, CancellationToken cancellationToken) =>
        store.ReadAsync(db => Rows.FindMailbox(db, mailboxId), cancellationToken);

    public Task<MailboxInfo> CreateMailboxAsync(long accountId, string name, SpecialUse specialUse, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var stored = Rows.MailboxName(name);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT 1 FROM accounts WHERE id = $a", ("$a", accountId)) is null)
            {
                throw new StoreNotFoundException("No such account.");
            }

            var id = Rows.CreateMailbox(ctx, accountId, stored, specialUse);
            return Rows.RequireMailbox(ctx.Db, id);
        }, cancellationToken);
    }

    public Task DeleteMailboxAsync(long mailboxId, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            Rows.DeleteMailbox(ctx, Rows.RequireMailbox(ctx.Db, mailboxId));
            return true;
        }, cancellationToken);

    public Task RenameMailboxAsync(long mailboxId, string newName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(newName);
        var stored = Rows.MailboxName(newName);
        return store.WriteAsync(ctx =>
        {
            var mailbox = Rows.RequireMailbox(ctx.Db, mailboxId);
            if (string.Equals(mailbox.Name, stored, StringComparison.Ordinal))
            {
                return true;
            }

            if (ctx.Db.Scalar("SELECT 1 FROM mailboxes WHERE account_id = $a AND name = $n", ("$a", mailbox.AccountId), ("$n", stored)) is not null)
            {
                throw new StoreConflictException("The target mailbox already exists.");
            }

            if (mailbox.Name == "INBOX")
            {
                RenameInbox(ctx, mailbox, stored);
                return true;
            }

            // RFC 9051 §6.3.6: UIDVALIDITY is kept; subscriptions stay by name (§6.3.7).
            ctx.Db.Exec("UPDATE mailboxes SET name = $n WHERE id = $m", ("$n", stored), ("$m", mailboxId));
            ctx.Publish(mailbox.AccountId, mailboxId, MailboxChangeKind.MailboxListChanged, mailbox.HighestModSeq);
            return true;
        }, cancellationToken);
    }

    public Task SetSubscribedAsync(long accountId, string name, bool subscribed, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var stored = Rows.MailboxName(name);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT 1 FROM accounts WHERE id = $a", ("$a", accountId)) is null)
            {
                throw new StoreNotFoundException("No such account.");
            }

            return subscribed
                ? ctx.Db.Exec("INSERT OR IGNORE INTO subscriptions(account_id, name) VALUES($a, $n)", ("$a", accountId), ("$n", stored))
                : ctx.Db.Exec("DELETE FROM subscriptions WHERE account_id = $a AND name = $n", ("$a", accountId), ("$n", stored));
        }, cancellationToken);
    }

    public Task<IReadOnlyList<string>> ListSubscriptionsAsync(long accountId, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<string>>(db =>
        {
            using var r = db.Query("SELECT name FROM subscriptions WHERE account_id = $a ORDER BY name", ("$a", accountId));
            var list = new List<string>();
            while (r.Read())
            {
                list.Add(r.GetString(0));
            }

            return list;
        }, cancellationToken);

    public Task<MailboxCounts> GetCountsAsync(long mailboxId, CancellationToken cancellationToken) =>
        store.ReadAsync(db =>
        {
            // Counters are kept by triggers (schema 2); \Recent is a UID range scan.
            using var r = db.Query(
                "SELECT message_count, unseen_count, deleted_count, total_size, " +
                "(SELECT COUNT(*) FROM mailbox_messages mm WHERE mm.mailbox_id = b.id AND mm.uid >= b.recent_uid) " +
                "FROM mailboxes b WHERE b.id = $m",
                ("$m", mailboxId));
            if (!r.Read())
            {
                throw new StoreNotFoundException("No such mailbox.");
            }

            return new MailboxCounts(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetInt64(3), r.GetInt32(4));
        }, cancellationToken);

    public Task<IReadOnlyList<MessageEntry>> ListMessagesAsync(long mailboxId, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<MessageEntry>>(db => db.Snapshot(db =>
        {
            _ = Rows.RequireMailbox(db, mailboxId);
            using var r = db.Query($"SELECT {Rows.EntryColumns} FROM {Rows.EntryFrom} WHERE mm.mailbox_id = $m ORDER BY mm.uid", ("$m", mailboxId));
            return Rows.Entries(r);
        }), cancellationToken);

    public Task<MailboxChanges> GetChangesSinceAsync(long mailboxId, ulong modSeq, CancellationToken cancellationToken) =>
        store.ReadAsync(db => db.Snapshot(db =>
        {
            var mailbox = Rows.RequireMailbox(db, mailboxId);
            var since = (long)Math.Min(modSeq, long.MaxValue);
            List<MessageEntry> changed;
            using (var r = db.Query(
                $"SELECT {Rows.EntryColumns} FROM {Rows.EntryFrom} WHERE mm.mailbox_id = $m AND mm.modseq > $s ORDER BY mm.uid",
                ("$m", mailboxId),
                ("$s", since)))
            {
                changed = Rows.Entries(r);
            }

            var expunged = new List<uint>();
            using (var r = db.Query("SELECT uid FROM tombstones WHERE mailbox_id = $m AND modseq > $s ORDER BY uid", ("$m", mailboxId), ("$s", since)))
            {
                while (r.Read())
                {
                    expunged.Add((uint)r.GetInt64(0));
                }
            }

            return new MailboxChanges(mailbox.HighestModSeq, mailbox.UidNext, changed, expunged);
        }), cancellationToken);

    public Task<uint> ClaimRecentAsync(long mailboxId, CancellationToken cancellationToken)
    {
        // Nothing to claim (no UID at or above the boundary yet): answered from a read snapshot,
        // without a write transaction. A message appended after this snapshot gets a UID at or
        // above the returned boundary and is claimed by the next call, so \Recent still goes to
        // exactly one session.
        var unclaimed = store.Read(db =>
        {
            using var r = db.Query("SELECT recent_uid, uidnext FROM mailboxes WHERE id = $m", ("$m", mailboxId));
            if (!r.Read())
            {
                throw new StoreNotFoundException("No such mailbox.");
            }

            return r.GetInt64(0) >= r.GetInt64(1) ? (uint?)r.GetInt64(0) : null;
        });
        return unclaimed is { } boundary ? Task.FromResult(boundary) : ClaimRecentWriteAsync(mailboxId, cancellationToken);
    }

    private Task<uint> ClaimRecentWriteAsync(long mailboxId, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            // RFC 3501 §2.3.2: a message is \Recent in exactly one session; the claimer sees
            // UIDs >= the returned boundary as recent, everybody after it sees none of them.
            using var r = ctx.Db.Query("SELECT recent_uid, uidnext FROM mailboxes WHERE id = $m", ("$m", mailboxId));
            if (!r.Read())
            {
                throw new StoreNotFoundException("No such mailbox.");
            }

            var first = r.GetInt64(0);
            var next = r.GetInt64(1);
            r.Close();
            if (next != first)
            {
                ctx.Db.Exec("UPDATE mailboxes SET recent_uid = $n WHERE id = $m", ("$n", next), ("$m", mailboxId));
            }

            return (uint)first;
        }, cancellationToken);

    public Task<StoreFlagsResult> StoreFlagsAsync(
        long mailboxId,
        IReadOnlyList<uint> uids,
        FlagOperation operation,
        MessageFlags flags,
        IReadOnlyList<string> keywords,
        ulong? unchangedSince,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uids);
        ArgumentNullException.ThrowIfNull(keywords);
        var json = Rows.JsonIds(uids);
        _ = Rows.StoreKeywords(keywords);

        // A STORE that changes nothing (every flag already as asked, or skipped by UNCHANGEDSINCE)
        // is answered from a read snapshot: there is nothing to commit, so no write transaction
        // and no fsync wait. The snapshot is committed state, so the answer is what the write
        // would have returned at that moment.
        var unchanged = store.Read(db => db.Snapshot(db =>
        {
            var plan = PlanStore(db, mailboxId, json, operation, flags, keywords, unchangedSince);
            return plan.Changes.Count == 0 ? plan.Result(plan.Mailbox.HighestModSeq) : null;
        }));
        if (unchanged is not null)
        {
            return Task.FromResult(unchanged);
        }

        return store.WriteAsync(ctx =>
        {
            var plan = PlanStore(ctx.Db, mailboxId, json, operation, flags, keywords, unchangedSince);
            var mailbox = plan.Mailbox;
            if (plan.Changes.Count == 0)
            {
                return plan.Result(mailbox.HighestModSeq);
            }

            // RFC 7162 §3.1: one new modseq for the entries that really change.
            var modSeq = mailbox.HighestModSeq + 1;
            foreach (var (index, newFlags, newKeywords) in plan.Changes)
            {
                var entry = plan.Updated[index];
                ctx.Db.Exec(
                    "UPDATE mailbox_messages SET flags = $f, keywords = $k, modseq = $s WHERE mailbox_id = $m AND uid = $u",
                    ("$f", (int)newFlags),
                    ("$k", newKeywords),
                    ("$s", (long)modSeq),
                    ("$m", mailboxId),
                    ("$u", (long)entry.Uid));
                plan.Updated[index] = entry with { Flags = newFlags, Keywords = Rows.Keywords(newKeywords), ModSeq = modSeq };
            }

            ctx.Db.Exec("UPDATE mailboxes SET highest_modseq = $s WHERE id = $m", ("$s", (long)modSeq), ("$m", mailboxId));
            ctx.Publish(mailbox.AccountId, mailboxId, MailboxChangeKind.FlagsChanged, modSeq);
            return plan.Result(modSeq);
        }, cancellationToken);
    }

    /// <summary>What a STORE would do on the connection's current state (a read snapshot, or the
    /// writer's transaction): the entries (unchanged ones as they are), the UNCHANGEDSINCE
    /// conflicts, and the changes to write.</summary>
    private static StorePlan PlanStore(Db db, long mailboxId, string json, FlagOperation operation, MessageFlags flags, IReadOnlyList<string> keywords, ulong? unchangedSince)
    {
        var mailbox = Rows.RequireMailbox(db, mailboxId);
        var entries = Rows.EntriesByUid(db, mailboxId, json);

        var plan = new StorePlan(mailbox, new List<MessageEntry>(entries.Count), [], []);
        foreach (var entry in entries)
        {
            // RFC 7162 §3.1.3: a message whose mod-sequence exceeds UNCHANGEDSINCE is not
            // changed and is reported in the MODIFIED response code.
            if (unchangedSince is { } limit && entry.ModSeq > limit)
            {
                plan.Conflicts.Add(entry.Uid);
                continue;
            }

            var newFlags = operation switch
            {
                FlagOperation.Replace => flags,
                FlagOperation.Add => entry.Flags | flags,
                _ => entry.Flags & ~flags,
            };
            var newKeywords = operation switch
            {
                FlagOperation.Replace => Rows.StoreKeywords(keywords),
                FlagOperation.Add => Rows.StoreKeywords(entry.Keywords.Concat(keywords)),
                _ => Rows.StoreKeywords(entry.Keywords.Where(k => !keywords.Contains(k, StringComparer.OrdinalIgnoreCase))),
            };

            // Unchanged entries keep their modseq (RFC 7162 §3.1: only real changes bump it).
            if (newFlags != entry.Flags || !SameKeywords(newKeywords, entry.Keywords))
            {
                plan.Changes.Add((plan.Updated.Count, newFlags, newKeywords));
            }

            plan.Updated.Add(entry);
        }

        return plan;
    }

    private sealed record StorePlan(MailboxInfo Mailbox, List<MessageEntry> Updated, List<uint> Conflicts, List<(int Index, MessageFlags Flags, string Keywords)> Changes)
    {
        public StoreFlagsResult Result(ulong highestModSeq) => new(highestModSeq, Updated, Conflicts);
    }

    public Task<ExpungeResult> ExpungeAsync(long mailboxId, IReadOnlyList<uint>? uids, CancellationToken cancellationToken)
    {
        var json = uids is null ? null : Rows.JsonIds(uids);
        return store.WriteAsync(ctx =>
        {
            var mailbox = Rows.RequireMailbox(ctx.Db, mailboxId);
            var (modSeq, expunged) = Expunge(ctx, mailbox, json);
            return new ExpungeResult(modSeq, expunged);
        }, cancellationToken);
    }

    public Task<CopyResult> CopyAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken) =>
        CopyOrMoveAsync(sourceMailboxId, uids, destinationMailboxId, move: false, cancellationToken);

    public Task<CopyResult> MoveAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken) =>
        CopyOrMoveAsync(sourceMailboxId, uids, destinationMailboxId, move: true, cancellationToken);

    private Task<CopyResult> CopyOrMoveAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, bool move, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uids);
        var json = Rows.JsonIds(uids);
        return store.WriteAsync(ctx =>
        {
            var source = Rows.RequireMailbox(ctx.Db, sourceMailboxId);
            var destination = Rows.RequireMailbox(ctx.Db, destinationMailboxId);
            var entries = Rows.EntriesByUid(ctx.Db, sourceMailboxId, json);

            if (entries.Count == 0)
            {
                return new CopyResult(destination.UidValidity, [], []);
            }

            if ((long)destination.UidNext + entries.Count > uint.MaxValue)
            {
                throw new StoreConflictException("The destination mailbox has used every UID.");
            }

            // RFC 4315 COPYUID / RFC 6851: new UIDs in the destination, ascending in source order,
            // all under one new destination modseq.
            var modSeq = destination.HighestModSeq + 1;
            var next = destination.UidNext;
            var sourceUids = new List<uint>(entries.Count);
            var destinationUids = new List<uint>(entries.Count);
            foreach (var e in entries)
            {
                ctx.Db.Exec(
                    "INSERT INTO mailbox_messages(mailbox_id, uid, message_id, flags, keywords, modseq, internal_date, size, internal_zone) VALUES($m, $u, $id, $f, $k, $s, $d, $z, $tz)",
                    ("$m", destinationMailboxId),
                    ("$u", (long)next),
                    ("$id", e.MessageId),
                    ("$z", e.Size),
                    ("$f", (int)e.Flags),
                    ("$k", Rows.StoreKeywords(e.Keywords)),
                    ("$s", (long)modSeq),
                    ("$d", e.InternalDate.ToUnixTimeMilliseconds()),
                    ("$tz", Rows.Zone(e.InternalDate)));
                sourceUids.Add(e.Uid);
                destinationUids.Add(next);
                next++;
            }

            ctx.Db.Exec("UPDATE mailboxes SET uidnext = $n, highest_modseq = $s WHERE id = $m", ("$n", (long)next), ("$s", (long)modSeq), ("$m", destinationMailboxId));
            ctx.Publish(destination.AccountId, destinationMailboxId, MailboxChangeKind.Appended, modSeq);
            if (move)
            {
                var current = sourceMailboxId == destinationMailboxId ? Rows.RequireMailbox(ctx.Db, sourceMailboxId) : source;
                Expunge(ctx, current, Rows.JsonIds(sourceUids));
            }

            return new CopyResult(destination.UidValidity, sourceUids, destinationUids);
        }, cancellationToken);
    }

    /// <summary>Removes entries (all \Deleted ones when <paramref name="json"/> is null) and
    /// leaves a tombstone per UID under one new modseq (RFC 7162 §3.2.10, VANISHED). Set-based: a
    /// few statements however many UIDs. The entries' messages are only listed for reclamation
    /// (trigger, schema migration 4): no body-sized row is touched in this transaction, so a
    /// POP3 UPDATE or a large EXPUNGE commits quickly; counters and quota usage change here.</summary>
    private static (ulong ModSeq, List<uint> Expunged) Expunge(WriteContext ctx, MailboxInfo mailbox, string? json)
    {
        var expunged = new List<uint>();
        using (var r = json is null
            ? ctx.Db.Query("DELETE FROM mailbox_messages WHERE mailbox_id = $m AND (flags & 8) <> 0 RETURNING uid", ("$m", mailbox.Id))
            : ctx.Db.Query("DELETE FROM mailbox_messages WHERE mailbox_id = $m AND uid IN (SELECT value FROM json_each($u)) RETURNING uid", ("$m", mailbox.Id), ("$u", json)))
        {
            while (r.Read())
            {
                expunged.Add((uint)r.GetInt64(0));
            }
        }

        if (expunged.Count == 0)
        {
            return (mailbox.HighestModSeq, expunged);
        }

        // RETURNING gives no order; results are in UID order.
        expunged.Sort();
        var modSeq = mailbox.HighestModSeq + 1;
        ctx.Db.Exec(
            "INSERT OR REPLACE INTO tombstones(mailbox_id, uid, modseq) SELECT $m, value, $s FROM json_each($u)",
            ("$m", mailbox.Id),
            ("$u", Rows.JsonIds(expunged)),
            ("$s", (long)modSeq));
        ctx.Db.Exec("UPDATE mailboxes SET highest_modseq = $s WHERE id = $m", ("$s", (long)modSeq), ("$m", mailbox.Id));
        ctx.Publish(mailbox.AccountId, mailbox.Id, MailboxChangeKind.Expunged, modSeq);
        return (modSeq, expunged);
    }

    /// <summary>RFC 9051 §6.3.6: renaming INBOX moves its messages to a new mailbox of that
    /// name; INBOX stays (same UIDVALIDITY), empty.</summary>
    private static void RenameInbox(WriteContext ctx, MailboxInfo inbox, string newName)
    {
        var id = Rows.CreateMailbox(ctx, inbox.AccountId, newName, SpecialUse.None);
        var target = Rows.RequireMailbox(ctx.Db, id);
        var modSeq = target.HighestModSeq + 1;
        ctx.Db.Exec(
            "INSERT INTO mailbox_messages(mailbox_id, uid, message_id, flags, keywords, modseq, internal_date, size, internal_zone) " +
            "SELECT $t, uid, message_id, flags, keywords, $s, internal_date, size, internal_zone FROM mailbox_messages WHERE mailbox_id = $m",
            ("$t", id),
            ("$s", (long)modSeq),
            ("$m", inbox.Id));
        ctx.Db.Exec("UPDATE mailboxes SET uidnext = $n, highest_modseq = $s WHERE id = $t", ("$n", (long)inbox.UidNext), ("$s", (long)modSeq), ("$t", id));
        ctx.Publish(inbox.AccountId, id, MailboxChangeKind.Appended, modSeq);
        Expunge(ctx, inbox, Rows.JsonIds(ListUids(ctx.Db, inbox.Id)));
    }

    private static List<uint> ListUids(Db db, long mailboxId)
    {
        using var r = db.Query("SELECT uid FROM mailbox_messages WHERE mailbox_id = $m ORDER BY uid", ("$m", mailboxId));
        var list = new List<uint>();
        while (r.Read())
        {
            list.Add((uint)r.GetInt64(0));
        }

        return list;
    }

    private static bool SameKeywords(string stored, IReadOnlyList<string> current)
    {
        var a = Rows.Keywords(stored);
        return a.Count == current.Count && a.All(k => current.Contains(k, StringComparer.OrdinalIgnoreCase));
    }
}