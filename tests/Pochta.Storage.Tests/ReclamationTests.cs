using System.Globalization;
using System.Text;

using Microsoft.Data.Sqlite;

using Pochta.Core;
using Pochta.Storage.Sqlite;

namespace Pochta.Storage.Tests;

/// <summary>
/// Lazy reclamation (schema migration 4): an expunge commits the IMAP-visible end state at once
/// (entries, tombstones, modseq, counters, quota usage) and only lists the bodies; the store's
/// background reclaimer, or <see cref="SqliteMailStore.ReclaimAsync"/>, frees them later, resumes
/// after a restart, and never frees a body that a new delivery shares.
/// </summary>
public sealed class ReclamationTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly TempDirectory _dir = new();
    private SqliteMailStore _store = null!;

    private static int Large => new SqliteStoreOptions().SmallBlobThreshold + 1000;

    public Task InitializeAsync() => OpenAsync(reclaimBatch: 0);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Expunge_commits_the_visible_state_and_leaves_bodies_to_reclamation()
    {
        var (account, inbox) = await SetUpAsync();
        var bodies = new[] { Body("a", 800), Body("b", Large), Body("c", 900) };
        var ids = new List<long>();
        foreach (var b in bodies)
        {
            ids.Add((await DeliverAsync(b, inbox)).MessageId);
        }

        var before = (await _store.Mailboxes.GetMailboxAsync(inbox, Ct))!.HighestModSeq;
        var result = await ((IBulkExpunge)_store.Messages).ExpungeManyAsync(inbox, [1u, 2u], Ct);

        // Visible at once: entries gone, tombstones, one new modseq, counters and quota usage.
        Assert.Equal([1u, 2u], result.Expunged);
        Assert.Equal(before + 1, result.HighestModSeq);
        Assert.Equal([3u], (await _store.Mailboxes.ListMessagesAsync(inbox, Ct)).Select(e => e.Uid));
        Assert.Equal([1u, 2u], (await _store.Mailboxes.GetChangesSinceAsync(inbox, before, Ct)).Expunged);
        Assert.Equal(1, (await _store.Mailboxes.GetCountsAsync(inbox, Ct)).Messages);
        Assert.Equal(new QuotaUsage(account, bodies[2].Length, 1, 0, 0), await _store.Directory.GetQuotaUsageAsync(account, Ct));

        // Not yet freed (background reclamation is off in this store).
        Assert.Equal(2, Scalar("SELECT COUNT(*) FROM message_garbage"));
        Assert.Equal(3, Scalar("SELECT COUNT(*) FROM messages"));
        Assert.Single(BlobFiles());

        // ... but gone for readers, as before.
        await Assert.ThrowsAsync<StoreNotFoundException>(() => _store.Messages.OpenMessageAsync(ids[0], Ct));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => _store.Messages.OpenMessageAsync(ids[1], Ct));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => _store.Messages.GetIndexAsync(ids[1], Ct));
        await (await _store.Messages.OpenMessageAsync(ids[2], Ct)).DisposeAsync();
        var visible = await VisibleStateAsync(account, inbox);

        await _store.ReclaimAsync(Ct);
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM message_garbage"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM messages"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM blobs"));
        Assert.Empty(BlobFiles());
        Assert.Equal(visible, await VisibleStateAsync(account, inbox));
    }

    [Fact]
    public async Task The_background_reclaimer_frees_expunged_bodies()
    {
        await _store.DisposeAsync();
        await OpenAsync(reclaimBatch: 2);
        var (_, inbox) = await SetUpAsync();
        for (var i = 0; i < 7; i++)
        {
            await DeliverAsync(Body("bg" + i, i == 3 ? Large : 1000 + i), inbox);
        }

        await _store.Mailboxes.ExpungeAsync(inbox, [1u, 2u, 3u, 4u, 5u, 6u], Ct);

        // Background work: observed with a bound, not timed.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Scalar("SELECT COUNT(*) FROM messages") > 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM messages"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM blobs"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM message_garbage"));
        Assert.True(_store.ReclaimSteps >= 3, $"{_store.ReclaimSteps} steps for 6 messages at 2 per step");
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (BlobFiles().Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.Empty(BlobFiles());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Background_reclamation_yields_to_readers_up_to_its_maximum_deferral(bool bounded)
    {
        await _store.DisposeAsync();

        // Readers count as busy for ten minutes after each read: only the deferral bound lets the
        // work run.
        _store = new SqliteMailStore(
            new SqliteStoreOptions
            {
                DataDirectory = _dir.Path,
                ReclaimQuietPeriod = TimeSpan.FromMinutes(10),
                ReclaimMaxDeferral = bounded ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromMinutes(10),
            },
            TimeProvider.System);
        await _store.InitializeAsync(Ct);
        var (_, inbox) = await SetUpAsync();
        await DeliverAsync(Body("y1", 900), inbox);
        await DeliverAsync(Body("y2", 900), inbox);
        await _store.Mailboxes.ExpungeAsync(inbox, [1u], Ct);
        Assert.Single(await _store.Mailboxes.ListMessagesAsync(inbox, Ct));

        var deadline = DateTime.UtcNow.AddSeconds(bounded ? 30 : 1);
        while (Scalar("SELECT COUNT(*) FROM messages") > 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.Equal(bounded ? 1 : 2, Scalar("SELECT COUNT(*) FROM messages"));
        await _store.ReclaimAsync(Ct);
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM messages"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_delivered_again_before_reclamation_survives_it(bool large)
    {
        var (_, inbox) = await SetUpAsync();
        var body = Body("again", large ? Large : 1500);
        await DeliverAsync(body, inbox);
        await _store.Mailboxes.ExpungeAsync(inbox, [1u], Ct);

        // The same bytes again: the listed message's blob is reused by hash.
        var again = await DeliverAsync(body, inbox);
        await _store.ReclaimAsync(Ct);
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM messages"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM blobs"));
        Assert.Equal(large ? 1 : 0, BlobFiles().Count);
        await using var stream = await _store.Messages.OpenMessageAsync(again.MessageId, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        Assert.Equal(body, copy.ToArray());
    }

    [Fact]
    public async Task Reclamation_resumes_after_a_restart()
    {
        var (account, inbox) = await SetUpAsync();
        await DeliverAsync(Body("r1", Large), inbox);
        await DeliverAsync(Body("r2", 700), inbox);
        await DeliverAsync(Body("r3", 700), inbox);
        await _store.Mailboxes.ExpungeAsync(inbox, [1u, 2u], Ct);
        Assert.Equal(2, Scalar("SELECT COUNT(*) FROM message_garbage"));

        // Stopped with the work listed; the next owner reclaims it in the background.
        await _store.DisposeAsync();
        await OpenAsync(reclaimBatch: 64);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((Scalar("SELECT COUNT(*) FROM message_garbage") > 0 || BlobFiles().Count > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM message_garbage"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM messages"));
        Assert.Empty(BlobFiles());
        Assert.Equal(new QuotaUsage(account, 700, 1, 0, 0), await _store.Directory.GetQuotaUsageAsync(account, Ct));
    }

    [Fact]
    public async Task Reclamation_keeps_messages_copied_or_moved_before_it_runs()
    {
        var (account, inbox) = await SetUpAsync();
        var archive = (await _store.Mailboxes.FindMailboxAsync(account, "Archive", Ct))!.Id;
        await DeliverAsync(Body("m1", 600), inbox);
        await DeliverAsync(Body("m2", Large), inbox);
        await _store.Mailboxes.CopyAsync(inbox, [1u], archive, Ct);
        await _store.Mailboxes.MoveAsync(inbox, [2u], archive, Ct);
        await _store.Mailboxes.ExpungeAsync(inbox, [1u], Ct);
        await _store.ReclaimAsync(Ct);

        Assert.Equal(2, Scalar("SELECT COUNT(*) FROM messages"));
        Assert.Single(BlobFiles());
        foreach (var entry in await _store.Mailboxes.ListMessagesAsync(archive, Ct))
        {
            await using var stream = await _store.Messages.OpenMessageAsync(entry.MessageId, Ct);
            Assert.Equal(entry.Size, stream.Length);
        }
    }

    private async Task OpenAsync(int reclaimBatch)
    {
        _store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir.Path, ReclaimBatchSize = reclaimBatch }, TimeProvider.System);
        await _store.InitializeAsync(Ct);
    }

    private async Task<(long Account, long Inbox)> SetUpAsync()
    {
        await _store.Directory.AddDomainAsync("example.test", Ct);
        var account = await _store.Directory.AddAccountAsync("user@example.test", "cred", 0, Ct);
        return (account.Id, (await _store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", Ct))!.Id);
    }

    private async Task<string> VisibleStateAsync(long account, long inbox)
    {
        var mailbox = (await _store.Mailboxes.GetMailboxAsync(inbox, Ct))!;
        var entries = string.Join(';', (await _store.Mailboxes.ListMessagesAsync(inbox, Ct)).Select(e => $"{e.Uid}:{e.Flags}:{e.ModSeq}:{e.Size}"));
        var changes = await _store.Mailboxes.GetChangesSinceAsync(inbox, 0, Ct);
        return string.Join(
            '|',
            mailbox.UidNext,
            mailbox.HighestModSeq,
            await _store.Mailboxes.GetCountsAsync(inbox, Ct),
            await _store.Directory.GetQuotaUsageAsync(account, Ct),
            entries,
            string.Join(',', changes.Expunged));
    }

    private async Task<DeliveryResult> DeliverAsync(byte[] body, long mailbox)
    {
        var writer = _store.Messages.CreateWriter();
        StagedMessage staged;
        await using (writer)
        {
            await writer.WriteAsync(body, Ct);
            staged = await writer.CompleteAsync(Ct);
        }

        await using (staged)
        {
            var local = new LocalDelivery(mailbox, MessageFlags.None, [], DateTimeOffset.UtcNow);
            return await _store.Messages.CommitAsync(new DeliveryRequest(staged, body.AsSpan(0, Math.Min(body.Length, 20_000)).ToArray(), "a@example.test", [local], [], null), Ct);
        }
    }

    private static byte[] Body(string tag, int size)
    {
        var bytes = new byte[size];
        var head = Encoding.ASCII.GetBytes($"Subject: {tag}\r\n\r\n");
        head.CopyTo(bytes, 0);
        for (var i = head.Length; i < size; i++)
        {
            bytes[i] = (byte)('a' + ((i * 31 + tag.Length) % 26));
        }

        return bytes;
    }

    private List<string> BlobFiles() =>
        [.. Directory.EnumerateFiles(Path.Combine(_dir.Path, "blobs"), "*", SearchOption.AllDirectories)];

    private long Scalar(string sql)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_dir.Path, "pochta.db"), Pooling = false }.ConnectionString);
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}