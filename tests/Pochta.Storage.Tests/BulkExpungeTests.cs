using System.Globalization;
using System.Security.Cryptography;
using System.Text;

using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

using Pochta.Core;
using Pochta.Storage.Sqlite;

namespace Pochta.Storage.Tests;

/// <summary>
/// <see cref="IBulkExpunge"/> must leave exactly the state <see cref="IMailboxStore.ExpungeAsync"/>
/// leaves: the same scenario runs on two stores, one expunging each way, and every table, counter,
/// tombstone and blob file is compared, before reclamation (the state the expunge commits) and
/// after it. Background reclamation is off here so that both stores are compared at the same point.
/// </summary>
public sealed class BulkExpungeTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly TempDirectory _plainDir = new();
    private readonly TempDirectory _bulkDir = new();
    private readonly FakeTimeProvider _plainTime = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeTimeProvider _bulkTime = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private SqliteMailStore _plain = null!;
    private SqliteMailStore _bulk = null!;

    private static int Large => new SqliteStoreOptions().SmallBlobThreshold + 1000;

    public async Task InitializeAsync()
    {
        _plain = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _plainDir.Path, ReclaimBatchSize = 0 }, _plainTime);
        _bulk = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _bulkDir.Path, ReclaimBatchSize = 0 }, _bulkTime);
        await _plain.InitializeAsync(Ct);
        await _bulk.InitializeAsync(Ct);
    }

    public async Task DisposeAsync()
    {
        await _plain.DisposeAsync();
        await _bulk.DisposeAsync();
        _plainDir.Dispose();
        _bulkDir.Dispose();
    }

    [Fact]
    public async Task Same_end_state_as_expunge_for_unique_shared_queued_and_file_bodies()
    {
        var plain = await ScenarioAsync(_plain);
        var bulk = await ScenarioAsync(_bulk);
        Assert.Equal(plain.Uids, bulk.Uids);

        var plainResult = await _plain.Mailboxes.ExpungeAsync(plain.Inbox, plain.Uids, Ct);
        var bulkResult = await ((IBulkExpunge)_bulk.Messages).ExpungeManyAsync(bulk.Inbox, bulk.Uids, Ct);

        Assert.Equal(plainResult.HighestModSeq, bulkResult.HighestModSeq);
        Assert.Equal(plainResult.Expunged, bulkResult.Expunged);
        Assert.Equal(Dump(_plainDir.Path), Dump(_bulkDir.Path));
        Assert.Equal(BlobFiles(_plainDir.Path), BlobFiles(_bulkDir.Path));
        await _plain.ReclaimAsync(Ct);
        await _bulk.ReclaimAsync(Ct);
        Assert.Equal(Dump(_plainDir.Path), Dump(_bulkDir.Path));
        Assert.Equal(BlobFiles(_plainDir.Path), BlobFiles(_bulkDir.Path));
        Assert.Empty(ForeignKeyProblems(_bulkDir.Path));

        // What other references hold is still readable: the COPY in Archive, the queued message,
        // the body shared by the second identical delivery.
        foreach (var entry in await KeptEntriesAsync(_bulk, bulk))
        {
            await using var stream = await _bulk.Messages.OpenMessageAsync(entry.MessageId, Ct);
            Assert.Equal(entry.Size, stream.Length);
        }

        var queued = await _bulk.Messages.OpenMessageAsync(bulk.QueuedMessage, Ct);
        await queued.DisposeAsync();
    }

    [Fact]
    public async Task Publishes_one_expunge_event_and_writes_tombstones()
    {
        var s = await ScenarioAsync(_bulk);
        var before = (await _bulk.Mailboxes.GetMailboxAsync(s.Inbox, Ct))!.HighestModSeq;
        var events = new List<MailboxChange>();
        using var subscription = _bulk.Changes.Subscribe(s.Account, change =>
        {
            lock (events)
            {
                events.Add(change);
            }
        });

        var result = await ((IBulkExpunge)_bulk.Messages).ExpungeManyAsync(s.Inbox, [.. s.Uids, 9999], Ct);

        Assert.Equal(before + 1, result.HighestModSeq);
        Assert.Equal(s.Uids, result.Expunged);
        Assert.DoesNotContain(await _bulk.Mailboxes.ListMessagesAsync(s.Inbox, Ct), e => s.Uids.Contains(e.Uid));
        var changes = await _bulk.Mailboxes.GetChangesSinceAsync(s.Inbox, before, Ct);
        Assert.Equal(s.Uids, changes.Expunged);
        lock (events)
        {
            Assert.Single(events, e => e.MailboxId == s.Inbox && e.Kind == MailboxChangeKind.Expunged && e.ModSeq == result.HighestModSeq);
        }
    }

    [Fact]
    public async Task Nothing_to_expunge_changes_nothing()
    {
        var s = await ScenarioAsync(_bulk);
        var before = Dump(_bulkDir.Path);
        var result = await ((IBulkExpunge)_bulk.Messages).ExpungeManyAsync(s.Inbox, [9998, 9999], Ct);
        Assert.Empty(result.Expunged);
        Assert.Equal(before, Dump(_bulkDir.Path));
    }

    [Fact]
    public async Task Large_file_bodies_are_unlinked_after_reclamation()
    {
        var s = await ScenarioAsync(_bulk);
        Assert.Equal(2, BlobFiles(_bulkDir.Path).Count);
        await ((IBulkExpunge)_bulk.Messages).ExpungeManyAsync(s.Inbox, s.Uids, Ct);

        // The expunge itself leaves the bodies to the reclaimer.
        Assert.Equal(2, BlobFiles(_bulkDir.Path).Count);
        await _bulk.ReclaimAsync(Ct);

        // The queued copy of the large body keeps its file; the unique large body's file is gone.
        Assert.Equal(Scalar(_bulkDir.Path, "SELECT COUNT(*) FROM blobs WHERE data IS NULL"), BlobFiles(_bulkDir.Path).Count);
        Assert.Single(BlobFiles(_bulkDir.Path));
    }

    private sealed record Scenario(long Account, long Inbox, long Archive, uint[] Uids, long QueuedMessage);

    /// <summary>INBOX: unique small, unique large (file), a message also copied to Archive, a
    /// message also queued for a remote recipient (large), and two deliveries of one body.</summary>
    private static async Task<Scenario> ScenarioAsync(SqliteMailStore store)
    {
        await store.Directory.AddDomainAsync("example.test", Ct);
        var account = await store.Directory.AddAccountAsync("user@example.test", "cred", 0, Ct);
        var inbox = (await store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", Ct))!.Id;
        var archive = (await store.Mailboxes.FindMailboxAsync(account.Id, "Archive", Ct))!.Id;

        await DeliverAsync(store, Body("small", 500), [inbox]);
        await DeliverAsync(store, Body("large", Large), [inbox]);
        var copied = await DeliverAsync(store, Body("copied", 3000), [inbox]);
        await store.Mailboxes.CopyAsync(inbox, copied.Uids, archive, Ct);
        var queued = await DeliverAsync(store, Body("queued", Large + 10), [inbox], [new QueuedRecipient("r@remote.test", null, null)]);
        await DeliverAsync(store, Body("twice", 2000), [inbox]);
        await DeliverAsync(store, Body("twice", 2000), [inbox], flags: MessageFlags.Seen);
        await DeliverAsync(store, Body("kept", 700), [inbox]);

        var all = await store.Mailboxes.ListMessagesAsync(inbox, Ct);
        var uids = all.Take(all.Count - 1).Select(e => e.Uid).ToArray();
        return new Scenario(account.Id, inbox, archive, uids, queued.MessageId);
    }

    private static async Task<List<MessageEntry>> KeptEntriesAsync(SqliteMailStore store, Scenario s)
    {
        var kept = new List<MessageEntry>();
        foreach (var mailbox in new[] { s.Inbox, s.Archive })
        {
            kept.AddRange(await store.Mailboxes.ListMessagesAsync(mailbox, Ct));
        }

        Assert.Equal(2, kept.Count);
        return kept;
    }

    private static async Task<DeliveryResult> DeliverAsync(SqliteMailStore store, byte[] body, long[] mailboxes, QueuedRecipient[]? remote = null, MessageFlags flags = MessageFlags.None)
    {
        var writer = store.Messages.CreateWriter();
        StagedMessage staged;
        await using (writer)
        {
            await writer.WriteAsync(body, Ct);
            staged = await writer.CompleteAsync(Ct);
        }

        await using (staged)
        {
            var local = mailboxes.Select(m => new LocalDelivery(m, flags, [], new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero))).ToList();

            // An index about as large as the body, as the MIME indexer's search data is.
            return await store.Messages.CommitAsync(new DeliveryRequest(staged, body.AsSpan(0, Math.Min(body.Length, 20_000)).ToArray(), "a@example.test", local, remote ?? [], null), Ct);
        }
    }

    private static byte[] Body(string tag, int size)
    {
        var bytes = new byte[size];
        var head = Encoding.ASCII.GetBytes($"Subject: {tag}\r\n\r\n");
        head.CopyTo(bytes, 0);
        var rng = new Random(tag.Length * 7919 + size);
        for (var i = head.Length; i < size; i++)
        {
            bytes[i] = (byte)('a' + rng.Next(26));
        }

        return bytes;
    }

    /// <summary>Every row of every table, values rendered (blobs as length and SHA-256).</summary>
    private static List<string> Dump(string dir)
    {
        using var db = Open(dir);
        var tables = new List<string>();
        using (var cmd = db.CreateCommand())
        {
            cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                tables.Add(r.GetString(0));
            }
        }

        var rows = new List<string>();
        foreach (var table in tables)
        {
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"SELECT * FROM \"{table}\"";
            using var r = cmd.ExecuteReader();
            var tableRows = new List<string>();
            while (r.Read())
            {
                var values = new string[r.FieldCount];
                for (var i = 0; i < r.FieldCount; i++)
                {
                    values[i] = r.GetValue(i) switch
                    {
                        byte[] b => $"blob:{b.Length}:{Convert.ToHexString(SHA256.HashData(b))}",
                        DBNull => "null",
                        var v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
                    };
                }

                tableRows.Add(table + ": " + string.Join('|', values));
            }

            tableRows.Sort(StringComparer.Ordinal);
            rows.AddRange(tableRows);
        }

        return rows;
    }

    private static List<string> ForeignKeyProblems(string dir)
    {
        using var db = Open(dir);
        using var cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA foreign_key_check";
        using var r = cmd.ExecuteReader();
        var problems = new List<string>();
        while (r.Read())
        {
            problems.Add(r.GetString(0));
        }

        return problems;
    }

    private static long Scalar(string dir, string sql)
    {
        using var db = Open(dir);
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static List<string> BlobFiles(string dir) =>
        [.. Directory.EnumerateFiles(Path.Combine(dir, "blobs"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal)];

    private static SqliteConnection Open(string dir)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dir, "pochta.db"), Pooling = false }.ConnectionString);
        c.Open();
        return c;
    }
}