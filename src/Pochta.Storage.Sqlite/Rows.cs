using System.Globalization;
using System.Text;

using Microsoft.Data.Sqlite;

using Pochta.Core;

namespace Pochta.Storage.Sqlite;

/// <summary>Row mapping and the mailbox bookkeeping shared by several write operations.</summary>
internal static class Rows
{
    public const string MailboxColumns =
        "m.id, m.account_id, m.name, m.special_use, m.uidvalidity, m.uidnext, m.highest_modseq, " +
        "EXISTS(SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name)";

    public const string EntryColumns =
        "mm.uid, mm.message_id, mm.flags, mm.keywords, mm.modseq, mm.internal_date, mm.size, mm.internal_zone";

    public const string EntryFrom = "mailbox_messages mm";

    public static readonly (string Name, SpecialUse Use)[] DefaultMailboxes =
    [
        ("INBOX", SpecialUse.Inbox),
        ("Drafts", SpecialUse.Drafts),
        ("Sent", SpecialUse.Sent),
        ("Junk", SpecialUse.Junk),
        ("Trash", SpecialUse.Trash),
        ("Archive", SpecialUse.Archive),
    ];

    public static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static DateTimeOffset? Time(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Time(r.GetInt64(i));

    public static string? String(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    /// <summary>INBOX is case-insensitive (RFC 9051 §5.1) and always stored as <c>INBOX</c>.</summary>
    public static string MailboxName(string name) =>
        string.Equals(name, "INBOX", StringComparison.OrdinalIgnoreCase) ? "INBOX" : name;

    public static MailboxInfo Mailbox(SqliteDataReader r) => new(
        r.GetInt64(0),
        r.GetInt64(1),
        r.GetString(2),
        (SpecialUse)r.GetInt32(3),
        (uint)r.GetInt64(4),
        (uint)r.GetInt64(5),
        (ulong)r.GetInt64(6),
        r.GetBoolean(7));

    public static MessageEntry Entry(SqliteDataReader r) => new(
        (uint)r.GetInt64(0),
        r.GetInt64(1),
        (MessageFlags)r.GetInt32(2),
        Keywords(r.GetString(3)),
        (ulong)r.GetInt64(4),
        InternalDate(r.GetInt64(5), r.GetInt64(7)),
        r.GetInt64(6));

    /// <summary>An INTERNALDATE in the zone it was given in (schema migration 5); an offset out of
    /// the ±14 h that date-time allows reads as UTC.</summary>
    public static DateTimeOffset InternalDate(long ms, long zoneMinutes) =>
        zoneMinutes is >= -14 * 60 and <= 14 * 60 and not 0 ? Time(ms).ToOffset(TimeSpan.FromMinutes(zoneMinutes)) : Time(ms);

    /// <summary>The zone column of an INTERNALDATE (whole minutes east of UTC).</summary>
    public static long Zone(DateTimeOffset date) => (long)date.Offset.TotalMinutes;

    /// <summary>The entries of a mailbox whose UIDs are in <paramref name="uidsJson"/> (a JSON
    /// array, <see cref="JsonIds"/>), in UID order; UIDs without an entry are left out.</summary>
    public static List<MessageEntry> EntriesByUid(Db db, long mailboxId, string uidsJson)
    {
        using var r = db.Query(
            $"SELECT {EntryColumns} FROM {EntryFrom} WHERE mm.mailbox_id = $m AND mm.uid IN (SELECT value FROM json_each($u)) ORDER BY mm.uid",
            ("$m", mailboxId),
            ("$u", uidsJson));
        return Entries(r);
    }

    public static List<MessageEntry> Entries(SqliteDataReader r)
    {
        var list = new List<MessageEntry>();
        while (r.Read())
        {
            list.Add(Entry(r));
        }

        return list;
    }

    public static IReadOnlyList<string> Keywords(string stored) =>
        stored.Length == 0 ? [] : stored.Split(' ');

    /// <summary>IMAP keywords are atoms (no spaces) compared case-insensitively; stored
    /// space-separated in first-seen spelling without duplicates.</summary>
    public static string StoreKeywords(IEnumerable<string> keywords)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var sb = new StringBuilder();
        foreach (var k in keywords)
        {
            if (k.Length == 0 || k.Contains(' ', StringComparison.Ordinal))
            {
                throw new ArgumentException("A keyword is a non-empty atom.", nameof(keywords));
            }

            if (seen.Add(k))
            {
                if (sb.Length > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(k);
            }
        }

        return sb.ToString();
    }

    public static string JsonIds<T>(IEnumerable<T> ids) where T : IFormattable =>
        "[" + string.Join(',', ids.Select(i => i.ToString(null, CultureInfo.InvariantCulture))) + "]";

    public static MailboxInfo? FindMailbox(Db db, long mailboxId)
    {
        using var r = db.Query($"SELECT {MailboxColumns} FROM mailboxes m WHERE m.id = $id", ("$id", mailboxId));
        return r.Read() ? Mailbox(r) : null;
    }

    public static MailboxInfo RequireMailbox(Db db, long mailboxId) =>
        FindMailbox(db, mailboxId) ?? throw new StoreNotFoundException("No such mailbox.");

    /// <summary>A fresh UIDVALIDITY: time-based (seconds) but strictly above every value ever
    /// handed out by this store, so a deleted and recreated mailbox never gets an old one.</summary>
    public static uint NextUidValidity(WriteContext ctx)
    {
        var last = ctx.Db.Long("SELECT value FROM meta WHERE key = 'uidvalidity'");
        var next = Math.Max(last + 1, ctx.Now.ToUnixTimeSeconds());
        if (next > uint.MaxValue)
        {
            throw new InvalidOperationException("UIDVALIDITY space exhausted.");
        }

        ctx.Db.Exec("INSERT INTO meta(key, value) VALUES('uidvalidity', $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", ("$v", next));
        return (uint)next;
    }

    public static long CreateMailbox(WriteContext ctx, long accountId, string name, SpecialUse specialUse)
    {
        if (ctx.Db.Scalar("SELECT 1 FROM mailboxes WHERE account_id = $a AND name = $n", ("$a", accountId), ("$n", name)) is not null)
        {
            throw new StoreConflictException("The mailbox already exists.");
        }

        var uidValidity = NextUidValidity(ctx);
        var id = ctx.Db.Long(
            "INSERT INTO mailboxes(account_id, name, special_use, uidvalidity, uidnext, highest_modseq, recent_uid) " +
            "VALUES($a, $n, $s, $v, 1, 1, 1) RETURNING id",
            ("$a", accountId),
            ("$n", name),
            ("$s", (int)specialUse),
            ("$v", (long)uidValidity));
        ctx.Publish(accountId, id, MailboxChangeKind.MailboxListChanged, 1);
        return id;
    }

    /// <summary>Deletes a mailbox, its entries (triggers release message references) and tombstones.</summary>
    public static void DeleteMailbox(WriteContext ctx, MailboxInfo mailbox)
    {
        ctx.Db.Exec("DELETE FROM mailbox_messages WHERE mailbox_id = $m", ("$m", mailbox.Id));
        ctx.Db.Exec("DELETE FROM tombstones WHERE mailbox_id = $m", ("$m", mailbox.Id));
        ctx.Db.Exec("DELETE FROM mailboxes WHERE id = $m", ("$m", mailbox.Id));
        ctx.Publish(mailbox.AccountId, mailbox.Id, MailboxChangeKind.MailboxListChanged, mailbox.HighestModSeq);
    }

    /// <summary>Removes an account with everything it owns.</summary>
    public static void DeleteAccount(WriteContext ctx, long accountId)
    {
        var mailboxes = new List<MailboxInfo>();
        using (var r = ctx.Db.Query($"SELECT {MailboxColumns} FROM mailboxes m WHERE m.account_id = $a", ("$a", accountId)))
        {
            while (r.Read())
            {
                mailboxes.Add(Mailbox(r));
            }
        }

        foreach (var mailbox in mailboxes)
        {
            DeleteMailbox(ctx, mailbox);
        }

        ctx.Db.Exec("DELETE FROM subscriptions WHERE account_id = $a", ("$a", accountId));
        ctx.Db.Exec("DELETE FROM accounts WHERE id = $a", ("$a", accountId));
    }

    /// <summary>Appends one entry: the next UID and a new modseq of the mailbox.</summary>
    public static (uint Uid, ulong ModSeq) Append(WriteContext ctx, long mailboxId, long messageId, long size, MessageFlags flags, string keywords, DateTimeOffset internalDate, out long accountId)
    {
        using var r = ctx.Db.Query("SELECT account_id, uidnext, highest_modseq FROM mailboxes WHERE id = $m", ("$m", mailboxId));
        if (!r.Read())
        {
            throw new StoreNotFoundException("No such mailbox.");
        }

        accountId = r.GetInt64(0);
        var uid = r.GetInt64(1);
        var modSeq = r.GetInt64(2) + 1;
        r.Close();
        if (uid > uint.MaxValue)
        {
            throw new StoreConflictException("The mailbox has used every UID.");
        }

        ctx.Db.Exec(
            "INSERT INTO mailbox_messages(mailbox_id, uid, message_id, flags, keywords, modseq, internal_date, size, internal_zone) VALUES($m, $u, $id, $f, $k, $s, $d, $z, $tz)",
            ("$m", mailboxId),
            ("$u", uid),
            ("$id", messageId),
            ("$z", size),
            ("$f", (int)flags),
            ("$k", keywords),
            ("$s", modSeq),
            ("$d", internalDate.ToUnixTimeMilliseconds()),
            ("$tz", Zone(internalDate)));
        ctx.Db.Exec("UPDATE mailboxes SET uidnext = $u, highest_modseq = $s WHERE id = $m", ("$m", mailboxId), ("$u", uid + 1), ("$s", modSeq));
        return ((uint)uid, (ulong)modSeq);
    }
}