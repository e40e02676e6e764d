using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Pochta.Core;
using Pochta.Storage.Sqlite;

namespace Pochta.Storage.Tests;

public sealed class SqliteMailStoreTests : MailStoreContractTests
{
    private readonly TempDirectory _dir = new();

    private SqliteMailStore Sqlite => (SqliteMailStore)Store;

    protected override int LargeMessageSize => new SqliteStoreOptions().SmallBlobThreshold;

    protected override IMailStore OpenStore(TimeProvider time) =>
        new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir.Path }, time);

    /// <summary>Bodies after reclamation (which the store otherwise runs in the background).</summary>
    protected override async Task<int> CountBlobsAsync()
    {
        await Sqlite.ReclaimAsync(Ct);
        using var db = OpenRaw();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM blobs";
        var rows = Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        cmd.CommandText = "SELECT COUNT(*) FROM blobs WHERE data IS NULL";
        var fileRows = Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

        // Files and rows agree: every file blob row has its file and no file is left over.
        Assert.Equal(fileRows, BlobFiles().Count);
        return rows;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }

    private SqliteConnection OpenRaw()
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_dir.Path, "pochta.db"), Pooling = false }.ConnectionString);
        c.Open();
        return c;
    }

    private List<string> BlobFiles() =>
        Directory.EnumerateFiles(Path.Combine(_dir.Path, "blobs"), "*", SearchOption.AllDirectories).ToList();

    private long Scalar(string sql)
    {
        using var db = OpenRaw();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private List<long> Longs(string sql)
    {
        using var db = OpenRaw();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var list = new List<long>();
        while (r.Read())
        {
            list.Add(r.GetInt64(0));
        }

        return list;
    }

    private string Text(string sql)
    {
        using var db = OpenRaw();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return (string)cmd.ExecuteScalar()!;
    }

    [Fact]
    public void Database_is_wal_with_schema_version()
    {
        Assert.Equal("wal", Text("PRAGMA journal_mode"));
        Assert.Equal(Schema.Migrations.Length, Scalar("PRAGMA user_version"));
        Assert.True(File.Exists(Path.Combine(_dir.Path, "pochta.db")));
        Assert.True(Directory.Exists(Path.Combine(_dir.Path, "blobs", "ab")));
    }

    [Fact]
    public async Task Concurrent_commits_share_transactions()
    {
        var (_, inbox) = await NewAccountAsync();
        var before = (Sqlite.CommittedBatches, Sqlite.CommittedOperations);
        const int n = 50;
        var staged = await Task.WhenAll(Enumerable.Range(0, n).Select(i => StageAsync(Body("g" + i, 1500))));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var commits = staged.Select(s => Task.Run(async () =>
        {
            await start.Task;
            return await Store.Messages.CommitAsync(new DeliveryRequest(s, "I"u8.ToArray(), "", [new LocalDelivery(inbox.Id, MessageFlags.None, [], Time.GetUtcNow())], [], null), Ct);
        })).ToList();
        start.SetResult();
        await Task.WhenAll(commits);
        var ops = Sqlite.CommittedOperations - before.Item2;
        var batches = Sqlite.CommittedBatches - before.Item1;
        Assert.Equal(n, ops);
        Assert.True(batches < n, $"{n} commits took {batches} transactions: no group commit");
    }

    [Fact]
    public async Task Migrations_upgrade_an_old_database_in_place()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "pochta.db");
        using (var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ConnectionString))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = Schema.Migrations[0] + """
                PRAGMA user_version = 1;
                INSERT INTO domains(id, name, created_at) VALUES(1, 'example.test', 0);
                INSERT INTO accounts(id, address, domain_id, credential, quota, created_at) VALUES(1, 'u@example.test', 1, 'c', 0, 0);
                INSERT INTO mailboxes(id, account_id, name, special_use, uidvalidity, uidnext, highest_modseq, recent_uid) VALUES(1, 1, 'INBOX', 1, 7, 3, 5, 3);
                INSERT INTO blobs(hash, size, data) VALUES('h', 10, x'00');
                INSERT INTO messages(id, blob_hash, size, index_data, created_at) VALUES(1, 'h', 10, x'00', 0), (2, 'h', 20, x'00', 0);
                INSERT INTO mailbox_messages(mailbox_id, uid, message_id, flags, keywords, modseq, internal_date) VALUES(1, 1, 1, 1, '', 4, 0), (1, 2, 2, 8, '', 5, 0);
                """;
            cmd.ExecuteNonQuery();
        }

        await using var store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = dir.Path }, Time);
        await store.InitializeAsync(Ct);
        Assert.Equal(new MailboxCounts(2, 1, 1, 30, 0), await store.Mailboxes.GetCountsAsync(1, Ct));
        Assert.Equal([10L, 20L], (await store.Mailboxes.ListMessagesAsync(1, Ct)).Select(e => e.Size));
        var inbox = (await store.Mailboxes.GetMailboxAsync(1, Ct))!;
        Assert.Equal((7u, 3u, 5ul), (inbox.UidValidity, inbox.UidNext, inbox.HighestModSeq));

        // Migration 3 backfilled the account's usage from the stored rows and keeps it from now on.
        Assert.Equal(new QuotaUsage(1, 30, 2, 0, 0), await store.Directory.GetQuotaUsageAsync(1, Ct));
        await store.Mailboxes.ExpungeAsync(1, [2], Ct);
        Assert.Equal(new QuotaUsage(1, 10, 1, 0, 0), await store.Directory.GetQuotaUsageAsync(1, Ct));
    }

    [Fact]
    public async Task Bulk_expunge_releases_quota_usage_like_expunge()
    {
        var (account, inbox) = await NewAccountAsync();
        var bodies = Enumerable.Range(0, 6).Select(i => Body("bulk" + i, i % 2 == 0 ? LargeMessageSize + 5 : 700)).ToList();
        foreach (var b in bodies)
        {
            await DeliverAsync(b, [inbox.Id]);
        }

        await Store.Directory.SetQuotaAsync("user@example.test", bodies.Sum(b => (long)b.Length), 0, Ct);
        await ((IBulkExpunge)Store.Messages).ExpungeManyAsync(inbox.Id, [1, 2, 3, 4], Ct);
        Assert.Equal(new QuotaUsage(account.Id, bodies[4].Length + bodies[5].Length, 2, bodies.Sum(b => (long)b.Length), 0), await Store.Directory.GetQuotaUsageAsync(account.Id, Ct));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM quota_growth"));
    }

    [Fact]
    public async Task The_quota_and_reclamation_migrations_upgrade_a_version_2_database()
    {
        await Store.DisposeAsync();
        foreach (var file in Directory.EnumerateFiles(_dir.Path, "pochta.db*"))
        {
            File.Delete(file);
        }

        // A version 2 database written by the old triggers: refcounts in the rows, one message
        // in two mailboxes, one queued, a blob shared by two messages, and one large file body.
        using (var db = OpenRaw())
        {
            using var cmd = db.CreateCommand();
            cmd.CommandText = Schema.Migrations[0] + Schema.Migrations[1] + """
                PRAGMA user_version = 2;
                INSERT INTO domains(id, name, created_at) VALUES(1, 'example.test', 0);
                INSERT INTO accounts(id, address, domain_id, credential, quota, created_at) VALUES(1, 'u@example.test', 1, 'c', 0, 0);
                INSERT INTO mailboxes(id, account_id, name, special_use, uidvalidity, uidnext, highest_modseq, recent_uid) VALUES(1, 1, 'INBOX', 1, 7, 4, 3, 1), (2, 1, 'Other', 0, 8, 2, 1, 1);
                INSERT INTO blobs(hash, size, data) VALUES('a', 1234, zeroblob(1234)), ('b', 5000, NULL);
                INSERT INTO messages(id, blob_hash, size, index_data, created_at) VALUES(1, 'a', 1234, x'00', 0), (2, 'a', 1234, x'00', 0), (3, 'b', 5000, x'00', 0);
                INSERT INTO mailbox_messages(mailbox_id, uid, message_id, flags, keywords, modseq, internal_date, size)
                    VALUES(1, 1, 1, 0, '', 1, 0, 1234), (2, 1, 1, 0, '', 1, 0, 1234), (1, 2, 2, 0, '', 2, 0, 1234), (1, 3, 3, 0, '', 3, 0, 5000);
                INSERT INTO queue_entries(id, message_id, sender, ret_full, created_at) VALUES(1, 3, '', 0, 0);
                """;
            cmd.ExecuteNonQuery();
            Assert.Equal(2, Scalar("SELECT refcount FROM messages WHERE id = 1"));
            Assert.Equal(2, Scalar("SELECT refcount FROM blobs WHERE hash = 'a'"));
        }

        await RestartAsync();
        Assert.Equal(Schema.Migrations.Length, Scalar("PRAGMA user_version"));
        Assert.Equal(new QuotaUsage(1, (3L * 1234) + 5000, 4, 0, 0), await Store.Directory.GetQuotaUsageAsync(1, Ct));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM quota_growth"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name = 'refcount'"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM pragma_table_info('blobs') WHERE name = 'refcount'"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM message_garbage"));

        // From now on references are the rows: the last entry of message 3 leaves it to the queue,
        // message 2 goes but its blob stays for message 1.
        await Store.Mailboxes.ExpungeAsync(1, [2u, 3u], Ct);
        await Sqlite.ReclaimAsync(Ct);
        Assert.Equal([1L, 3L], Longs("SELECT id FROM messages ORDER BY id"));
        Assert.Equal(2, Scalar("SELECT COUNT(*) FROM blobs"));
        Assert.Equal(new QuotaUsage(1, 2L * 1234, 2, 0, 0), await Store.Directory.GetQuotaUsageAsync(1, Ct));
    }

    [Fact]
    public async Task A_database_from_a_newer_program_is_refused()
    {
        using var dir = new TempDirectory();
        using (var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dir.Path, "pochta.db"), Pooling = false }.ConnectionString))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 999";
            cmd.ExecuteNonQuery();
        }

        await using var store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = dir.Path }, Time);
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(Ct));
    }

    [Fact]
    public async Task A_failing_operation_does_not_fail_its_batch_neighbours()
    {
        var (_, inbox) = await NewAccountAsync();
        var before = Sqlite.CommittedBatches;
        var staged = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => StageAsync(Body("n" + i, i % 3 == 0 ? LargeMessageSize + 1 : 500))));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var commits = staged.Select((s, i) => Task.Run(async () =>
        {
            await start.Task;
            var mailbox = i % 2 == 0 ? inbox.Id : 999_999;
            return await Store.Messages.CommitAsync(new DeliveryRequest(s, "I"u8.ToArray(), "", [new LocalDelivery(mailbox, MessageFlags.None, [], Time.GetUtcNow())], [], null), Ct);
        })).ToList();
        start.SetResult();
        for (var i = 0; i < commits.Count; i++)
        {
            if (i % 2 == 0)
            {
                Assert.Single((await commits[i]).Uids);
            }
            else
            {
                await Assert.ThrowsAsync<StoreNotFoundException>(() => commits[i]);
            }
        }

        Assert.True(Sqlite.CommittedBatches - before < 30, "no batch was shared");
        var entries = await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct);
        Assert.Equal(Enumerable.Range(1, 15).Select(i => (uint)i), entries.Select(e => e.Uid));
        Assert.Equal(15, await CountBlobsAsync());
        foreach (var s in staged)
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Writes_run_on_the_dedicated_writer_thread()
    {
        var names = new List<string?>();
        for (var i = 0; i < 5; i++)
        {
            names.Add(await Sqlite.WriteAsync(_ => Thread.CurrentThread.Name, Ct));
            await Task.Delay(5);
        }

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => Sqlite.WriteAsync(_ => Thread.CurrentThread.IsThreadPoolThread, Ct))));
        Assert.All(names, n => Assert.Equal("pochta-store-writer", n));
        Assert.All(concurrent, Assert.False);
    }

    [Fact]
    public async Task The_writer_spills_to_a_temp_file_beyond_the_threshold()
    {
        var tmp = Path.Combine(_dir.Path, "tmp");
        var writer = Store.Messages.CreateWriter();
        await using (writer)
        {
            await writer.WriteAsync(new byte[LargeMessageSize], Ct);
            Assert.Empty(Directory.EnumerateFiles(tmp));
            await writer.WriteAsync(new byte[1], Ct);
            var spilled = Assert.Single(Directory.EnumerateFiles(tmp));
            await writer.WriteAsync(new byte[3 * LargeMessageSize], Ct);
            await using var staged = await writer.CompleteAsync(Ct);
            Assert.Equal((4 * LargeMessageSize) + 1, new FileInfo(spilled).Length);
            Assert.Equal((4 * LargeMessageSize) + 1, staged.Length);
        }

        Assert.Empty(Directory.EnumerateFiles(tmp));
    }

    [Fact]
    public async Task Large_bodies_are_files_small_ones_rows()
    {
        var (_, inbox) = await NewAccountAsync();
        var small = await DeliverAsync(Body("small", 1000), [inbox.Id]);
        var large = await DeliverAsync(Body("large", LargeMessageSize * 2), [inbox.Id]);
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM blobs WHERE data IS NOT NULL"));
        var file = Assert.Single(BlobFiles());
        var hash = Text($"SELECT blob_hash FROM messages WHERE id = {large.MessageId}");
        Assert.Equal(Path.Combine(_dir.Path, "blobs", hash[..2], hash[2..]), file);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.Path, "tmp")));
        Assert.NotEqual(small.MessageId, large.MessageId);
    }

    [Fact]
    public async Task Recovery_removes_staged_files_and_unreferenced_blobs()
    {
        var (_, inbox) = await NewAccountAsync();
        var kept = await DeliverAsync(Body("kept", LargeMessageSize * 2), [inbox.Id]);
        var keptFile = Assert.Single(BlobFiles());

        // What a crash can leave: a staged temp file, a blob file linked before its commit.
        await using (var staged = await StageAsync(Body("staged", LargeMessageSize * 2)))
        {
            File.Copy(((FileStagedMessage)staged).Path, Path.Combine(_dir.Path, "tmp", "left-over.msg"));
            var orphan = Path.Combine(_dir.Path, "blobs", staged.ContentHash[..2], staged.ContentHash[2..]);
            File.Copy(((FileStagedMessage)staged).Path, orphan);
        }

        File.WriteAllText(Path.Combine(_dir.Path, "blobs", "00", "junk"), "x");
        Assert.Equal(3, BlobFiles().Count);

        await RestartAsync();
        Assert.Equal([keptFile], BlobFiles());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.Path, "tmp")));
        Assert.Equal(Body("kept", LargeMessageSize * 2), await ReadAllAsync(await Store.Messages.OpenMessageAsync(kept.MessageId, Ct)));
    }

    [Fact]
    public async Task A_second_process_store_shares_rows_but_leaves_files_to_the_owner()
    {
        var (account, inbox) = await NewAccountAsync();
        var kept = await DeliverAsync(Body("own", LargeMessageSize * 2), [inbox.Id]);

        // The owner's staged body in flight, as the admin CLI would find it while the server runs.
        await using var staged = await StageAsync(Body("in-flight", LargeMessageSize * 2));
        var stagedPath = ((FileStagedMessage)staged).Path;

        await using (var cli = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir.Path }, Time))
        {
            await cli.InitializeAsync(Ct);
            Assert.True(File.Exists(stagedPath));
            Assert.Single(await cli.Mailboxes.ListMessagesAsync(inbox.Id, Ct));

            // Its writes are the owner's rows; the freed file stays for the owner's recovery.
            Assert.True(await cli.Directory.RemoveAccountAsync(account.Address, force: true, Ct));
            Assert.Single(BlobFiles());
        }

        Assert.Null(await Store.Directory.FindAccountAsync(account.Address, Ct));

        // The second process did not reclaim (only the owner does); the owner's reclamation frees
        // the rows, and its next start the file the other process released.
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM message_garbage"));
        await Sqlite.ReclaimAsync(Ct);
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Messages.OpenMessageAsync(kept.MessageId, Ct));
        await RestartAsync();
        Assert.Empty(BlobFiles());
    }

    [Fact]
    public async Task References_are_rows_and_shared_rows_survive_reclamation()
    {
        var (account, inbox) = await NewAccountAsync();
        var sent = (await Store.Mailboxes.FindMailboxAsync(account.Id, "Sent", Ct))!;
        var first = await DeliverAsync(Body("r1"), [inbox.Id, sent.Id], [new QueuedRecipient("x@remote.test", null, null)]);
        await DeliverAsync(Body("r1"), [inbox.Id]);
        await Store.Mailboxes.CopyAsync(inbox.Id, [1u, 2u], sent.Id, Ct);

        // Each reference gone lists its message; reclamation keeps every message still named by an
        // entry or the queue, and the one blob both messages name.
        await Store.Mailboxes.ExpungeAsync(inbox.Id, [1u, 2u], Ct);
        await Sqlite.ReclaimAsync(Ct);
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM message_garbage"));
        Assert.Equal(2, Scalar("SELECT COUNT(*) FROM messages"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM blobs"));

        // The Sent entries go: the first message lives on for its queue entry only.
        await Store.Mailboxes.ExpungeAsync(sent.Id, [1u, 2u, 3u], Ct);
        await Sqlite.ReclaimAsync(Ct);
        Assert.Equal(first.MessageId, Scalar("SELECT id FROM messages"));
        Assert.Equal(Body("r1"), await ReadAllAsync(await Store.Messages.OpenMessageAsync(first.MessageId, Ct)));
        Assert.True(await Store.Queue.DeleteAsync(first.QueueId!.Value, Ct));
        await Sqlite.ReclaimAsync(Ct);
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM messages"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM blobs"));
    }

    [Fact]
    public async Task Di_registration_binds_the_storage_section()
    {
        using var dir = new TempDirectory();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:DataDirectory"] = dir.Path }).Build());
        services.AddPochtaSqliteStore();
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IMailStore>();
        Assert.IsType<SqliteMailStore>(store);
        Assert.Same(store, provider.GetRequiredService<IMailStore>());
        await store.InitializeAsync(Ct);
        Assert.Equal(Path.GetFullPath(dir.Path), ((SqliteMailStore)store).DataDirectory);
        Assert.True(File.Exists(Path.Combine(dir.Path, "pochta.db")));
        await store.DisposeAsync();
    }

    [Fact]
    public async Task Reads_before_initialize_fail_clearly()
    {
        using var dir = new TempDirectory();
        await using var store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = dir.Path }, TimeProvider.System, LoggerFactory.Create(_ => { }).CreateLogger("t"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.Directory.ListDomainsAsync(Ct));
    }
}