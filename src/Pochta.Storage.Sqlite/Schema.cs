namespace Pochta.Storage.Sqlite;

/// <summary>Versioned schema. <c>PRAGMA user_version</c> holds the number of applied
/// migrations; each migration runs in its own transaction with the version bump.</summary>
internal static class Schema
{
    public static readonly string[] Migrations =
    [
        // 1: initial model.
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;

        CREATE TABLE domains(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL);

        CREATE TABLE accounts(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            address TEXT NOT NULL UNIQUE,
            domain_id INTEGER NOT NULL REFERENCES domains(id),
            credential TEXT NOT NULL,
            quota INTEGER NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL);
        CREATE INDEX accounts_domain ON accounts(domain_id);

        CREATE TABLE aliases(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source TEXT NOT NULL UNIQUE,
            domain_id INTEGER NOT NULL REFERENCES domains(id));
        CREATE INDEX aliases_domain ON aliases(domain_id);
        CREATE TABLE alias_targets(
            alias_id INTEGER NOT NULL REFERENCES aliases(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            target TEXT NOT NULL,
            PRIMARY KEY(alias_id, target)) WITHOUT ROWID;

        CREATE TABLE mailboxes(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id INTEGER NOT NULL REFERENCES accounts(id),
            name TEXT NOT NULL,
            special_use INTEGER NOT NULL,
            uidvalidity INTEGER NOT NULL,
            uidnext INTEGER NOT NULL,
            highest_modseq INTEGER NOT NULL,
            recent_uid INTEGER NOT NULL,
            UNIQUE(account_id, name));

        CREATE TABLE subscriptions(
            account_id INTEGER NOT NULL REFERENCES accounts(id),
            name TEXT NOT NULL,
            PRIMARY KEY(account_id, name)) WITHOUT ROWID;

        -- Content-addressed bodies. data NULL: the body is the file blobs/ab/cdef... .
        -- refcount = number of messages rows naming the hash (kept by triggers).
        CREATE TABLE blobs(
            id INTEGER PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            data BLOB,
            refcount INTEGER NOT NULL DEFAULT 0);

        -- refcount = mailbox_messages rows + queue_entries rows naming the message (triggers).
        CREATE TABLE messages(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            blob_hash TEXT NOT NULL REFERENCES blobs(hash),
            size INTEGER NOT NULL,
            index_data BLOB NOT NULL,
            refcount INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL);
        CREATE INDEX messages_blob ON messages(blob_hash);

        CREATE TABLE mailbox_messages(
            mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
            uid INTEGER NOT NULL,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            flags INTEGER NOT NULL,
            keywords TEXT NOT NULL,
            modseq INTEGER NOT NULL,
            internal_date INTEGER NOT NULL,
            PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;
        CREATE INDEX mailbox_messages_modseq ON mailbox_messages(mailbox_id, modseq);
        CREATE INDEX mailbox_messages_message ON mailbox_messages(message_id);

        -- RFC 7162 / RFC 8620: expunged UIDs with the modseq of their expunge.
        CREATE TABLE tombstones(
            mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
            uid INTEGER NOT NULL,
            modseq INTEGER NOT NULL,
            PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;
        CREATE INDEX tombstones_modseq ON tombstones(mailbox_id, modseq);

        CREATE TABLE queue_entries(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            sender TEXT NOT NULL,
            envelope_id TEXT,
            ret_full INTEGER NOT NULL,
            created_at INTEGER NOT NULL);

        CREATE TABLE queue_recipients(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            queue_id INTEGER NOT NULL REFERENCES queue_entries(id) ON DELETE CASCADE,
            address TEXT NOT NULL,
            notify TEXT,
            orcpt TEXT,
            state INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt INTEGER,
            last_reply TEXT,
            remote_host TEXT,
            delay_notified INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX queue_recipients_queue ON queue_recipients(queue_id);
        CREATE INDEX queue_recipients_due ON queue_recipients(next_attempt) WHERE state IN (0, 1);

        -- File blobs whose last reference went in the current transaction; the writer drains
        -- it before COMMIT and unlinks the files after.
        CREATE TABLE blob_garbage(hash TEXT NOT NULL);

        CREATE TRIGGER mailbox_messages_ref AFTER INSERT ON mailbox_messages BEGIN
            UPDATE messages SET refcount = refcount + 1 WHERE id = NEW.message_id;
        END;
        CREATE TRIGGER mailbox_messages_unref AFTER DELETE ON mailbox_messages BEGIN
            UPDATE messages SET refcount = refcount - 1 WHERE id = OLD.message_id;
        END;
        CREATE TRIGGER queue_entries_ref AFTER INSERT ON queue_entries BEGIN
            UPDATE messages SET refcount = refcount + 1 WHERE id = NEW.message_id;
        END;
        CREATE TRIGGER queue_entries_unref AFTER DELETE ON queue_entries BEGIN
            UPDATE messages SET refcount = refcount - 1 WHERE id = OLD.message_id;
        END;
        CREATE TRIGGER messages_release AFTER UPDATE OF refcount ON messages WHEN NEW.refcount <= 0 BEGIN
            DELETE FROM messages WHERE id = NEW.id;
        END;
        CREATE TRIGGER messages_ref AFTER INSERT ON messages BEGIN
            UPDATE blobs SET refcount = refcount + 1 WHERE hash = NEW.blob_hash;
        END;
        CREATE TRIGGER messages_unref AFTER DELETE ON messages BEGIN
            UPDATE blobs SET refcount = refcount - 1 WHERE hash = OLD.blob_hash;
        END;
        CREATE TRIGGER blobs_release AFTER UPDATE OF refcount ON blobs WHEN NEW.refcount <= 0 BEGIN
            INSERT INTO blob_garbage(hash) SELECT NEW.hash WHERE NEW.data IS NULL;
            DELETE FROM blobs WHERE id = NEW.id;
        END;
        """,

        // 2: per-mailbox counters for STATUS (no scan), entry size beside the entry (no join).
        """
        ALTER TABLE mailbox_messages ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
        UPDATE mailbox_messages SET size = (SELECT size FROM messages WHERE messages.id = mailbox_messages.message_id);
        ALTER TABLE mailboxes ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE mailboxes ADD COLUMN unseen_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE mailboxes ADD COLUMN deleted_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE mailboxes ADD COLUMN total_size INTEGER NOT NULL DEFAULT 0;
        UPDATE mailboxes SET
            message_count = (SELECT COUNT(*) FROM mailbox_messages mm WHERE mm.mailbox_id = mailboxes.id),
            unseen_count = (SELECT COUNT(*) FROM mailbox_messages mm WHERE mm.mailbox_id = mailboxes.id AND (mm.flags & 1) = 0),
            deleted_count = (SELECT COUNT(*) FROM mailbox_messages mm WHERE mm.mailbox_id = mailboxes.id AND (mm.flags & 8) <> 0),
            total_size = (SELECT COALESCE(SUM(mm.size), 0) FROM mailbox_messages mm WHERE mm.mailbox_id = mailboxes.id);

        CREATE TRIGGER mailbox_counts_insert AFTER INSERT ON mailbox_messages BEGIN
            UPDATE mailboxes SET
                message_count = message_count + 1,
                unseen_count = unseen_count + ((NEW.flags & 1) = 0),
                deleted_count = deleted_count + ((NEW.flags & 8) <> 0),
                total_size = total_size + NEW.size
            WHERE id = NEW.mailbox_id;
        END;
        CREATE TRIGGER mailbox_counts_delete AFTER DELETE ON mailbox_messages BEGIN
            UPDATE mailboxes SET
                message_count = message_count - 1,
                unseen_count = unseen_count - ((OLD.flags & 1) = 0),
                deleted_count = deleted_count - ((OLD.flags & 8) <> 0),
                total_size = total_size - OLD.size
            WHERE id = OLD.mailbox_id;
        END;
        CREATE TRIGGER mailbox_counts_flags AFTER UPDATE OF flags ON mailbox_messages WHEN (OLD.flags & 9) <> (NEW.flags & 9) BEGIN
            UPDATE mailboxes SET
                unseen_count = unseen_count + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0),
                deleted_count = deleted_count + ((NEW.flags & 8) <> 0) - ((OLD.flags & 8) <> 0)
            WHERE id = NEW.mailbox_id;
        END;
        """,

        // 3: quotas. Per-account usage (octets and messages over every mailbox) kept by triggers
        // in the transaction of each change (delivery, APPEND, COPY/MOVE, expunge, mailbox or
        // account deletion), backfilled from the stored rows; a message limit beside the octet
        // limit (0 = unlimited). quota_growth lists the accounts with a limit whose usage grew in
        // the current write operation, with their usage before it: GroupCommitWriter checks them
        // before the operation's savepoint is released and always leaves the table empty.
        """
        ALTER TABLE accounts ADD COLUMN quota_messages INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE accounts ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE accounts ADD COLUMN used_messages INTEGER NOT NULL DEFAULT 0;
        UPDATE accounts SET
            used_bytes = (SELECT COALESCE(SUM(mm.size), 0) FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id WHERE m.account_id = accounts.id),
            used_messages = (SELECT COUNT(*) FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id WHERE m.account_id = accounts.id);

        CREATE TABLE quota_growth(
            account_id INTEGER PRIMARY KEY,
            bytes_before INTEGER NOT NULL,
            messages_before INTEGER NOT NULL);

        CREATE TRIGGER account_usage_insert AFTER INSERT ON mailbox_messages BEGIN
            INSERT OR IGNORE INTO quota_growth(account_id, bytes_before, messages_before)
                SELECT a.id, a.used_bytes, a.used_messages FROM accounts a
                WHERE a.id = (SELECT account_id FROM mailboxes WHERE id = NEW.mailbox_id) AND (a.quota > 0 OR a.quota_messages > 0);
            UPDATE accounts SET used_bytes = used_bytes + NEW.size, used_messages = used_messages + 1
            WHERE id = (SELECT account_id FROM mailboxes WHERE id = NEW.mailbox_id);
        END;
        CREATE TRIGGER account_usage_delete AFTER DELETE ON mailbox_messages BEGIN
            UPDATE accounts SET used_bytes = used_bytes - OLD.size, used_messages = used_messages - 1
            WHERE id = (SELECT account_id FROM mailboxes WHERE id = OLD.mailbox_id);
        END;
        """,

        // 4: lazy reclamation. The reference counts lived in the large rows (messages carry the
        // serialized index, blobs the inline body), so every reference change rewrote a
        // body-sized record inside the caller's transaction (an expunge, a COPY, every delivery).
        // References are now the rows themselves: mailbox_messages and queue_entries rows name a
        // message (indexed both ways), messages rows name a blob (messages_blob). Deleting an entry
        // or a queue entry only records its message in message_garbage; the store's background
        // reclaimer (Reclaimer.cs) later deletes each listed message that nothing references any
        // more, then each of their blobs that no message names, and queues file blobs in
        // blob_garbage. The list is durable, so reclamation resumes after a restart.
        """
        DROP TRIGGER mailbox_messages_ref;
        DROP TRIGGER mailbox_messages_unref;
        DROP TRIGGER queue_entries_ref;
        DROP TRIGGER queue_entries_unref;
        DROP TRIGGER messages_release;
        DROP TRIGGER messages_ref;
        DROP TRIGGER messages_unref;
        DROP TRIGGER blobs_release;
        ALTER TABLE messages DROP COLUMN refcount;
        ALTER TABLE blobs DROP COLUMN refcount;
        CREATE INDEX queue_entries_message ON queue_entries(message_id);

        -- Messages that may have lost their last reference (rechecked when collected).
        CREATE TABLE message_garbage(message_id INTEGER PRIMARY KEY);
        CREATE TRIGGER mailbox_messages_release AFTER DELETE ON mailbox_messages BEGIN
            INSERT OR IGNORE INTO message_garbage(message_id) VALUES(OLD.message_id);
        END;
        CREATE TRIGGER queue_entries_release AFTER DELETE ON queue_entries BEGIN
            INSERT OR IGNORE INTO message_garbage(message_id) VALUES(OLD.message_id);
        END;

        -- Rows left unreferenced by an older version cannot exist (its triggers deleted them in the
        -- same transaction), but listing every unreferenced message costs one scan, once.
        INSERT OR IGNORE INTO message_garbage(message_id)
            SELECT id FROM messages m
            WHERE NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = m.id)
              AND NOT EXISTS (SELECT 1 FROM queue_entries q WHERE q.message_id = m.id);
        """,

        // 5: the zone of an INTERNALDATE given by the client (RFC 9051 §6.3.12 APPEND date-time),
        // in minutes east of UTC, so FETCH INTERNALDATE returns the date-time as it was given and
        // SEARCH BEFORE/ON/SINCE compare its own date (§6.4.4: "disregarding time and timezone").
        // Deliveries keep 0 (UTC); rows from before keep 0, which is what they returned.
        """
        ALTER TABLE mailbox_messages ADD COLUMN internal_zone INTEGER NOT NULL DEFAULT 0;
        """,
    ];

    public static int Apply(Db db)
    {
        var version = (int)db.Long("PRAGMA user_version");
        if (version > Migrations.Length)
        {
            throw new InvalidOperationException($"The database schema version {version} is newer than this program ({Migrations.Length}).");
        }

        for (var i = version; i < Migrations.Length; i++)
        {
            db.ExecRaw("BEGIN IMMEDIATE");
            try
            {
                db.ExecRaw(Migrations[i]);
                db.ExecRaw($"PRAGMA user_version = {i + 1}");
                db.ExecRaw("COMMIT");
            }
            catch
            {
                db.ExecRaw("ROLLBACK");
                throw;
            }
        }

        return Migrations.Length - version;
    }
}