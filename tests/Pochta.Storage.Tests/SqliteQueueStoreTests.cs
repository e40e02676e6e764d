using Microsoft.Extensions.Time.Testing;

using Pochta.Storage.Sqlite;

namespace Pochta.Storage.Tests;

/// <summary>The queue runner's scan (due work other than what it holds) and batched outcome
/// commits, against the SQLite queue.</summary>
public sealed class SqliteQueueStoreTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private SqliteMailStore _store = null!;

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        _store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir.Path }, _time);
        await _store.InitializeAsync(Ct);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<QueueEntryInfo> QueueAsync(params string[] recipients)
    {
        var writer = _store.Messages.CreateWriter();
        StagedMessage staged;
        await using (writer)
        {
            await writer.WriteAsync(System.Text.Encoding.ASCII.GetBytes("Subject: q\r\n\r\nbody " + Guid.NewGuid().ToString("N") + "\r\n"), Ct);
            staged = await writer.CompleteAsync(Ct);
        }

        await using (staged)
        {
            var result = await _store.Messages.CommitAsync(
                new DeliveryRequest(staged, "I"u8.ToArray(), "alice@example.test", [], recipients.Select(r => new QueuedRecipient(r, null, null)).ToList(), null), Ct);
            return (await _store.Queue.GetAsync(result.QueueId!.Value, Ct))!;
        }
    }

    private static RecipientOutcome Delivered(QueueRecipientInfo r) => new(r.Id, RecipientState.Delivered, "250 ok", "mx.remote.test", null, false);

    [Fact]
    public async Task A_scan_skips_recipients_held_by_the_caller_but_lists_every_recipient_of_what_it_returns()
    {
        var held = await QueueAsync("a@one.test");
        var mixed = await QueueAsync("b@one.test", "c@two.test");
        var free = await QueueAsync("d@one.test");
        var now = _time.GetUtcNow();

        var due = await _store.Queue.GetDueAsync(now, 10, [held.Recipients[0].Id, mixed.Recipients[0].Id], Ct);
        Assert.Equal([mixed.Id, free.Id], due.Select(e => e.Id));

        // The entry is complete (the caller filters what it holds), in recipient order.
        Assert.Equal(["b@one.test", "c@two.test"], due[0].Recipients.Select(r => r.Address));
        Assert.Equal(mixed.Recipients, due[0].Recipients);

        // Everything held: nothing due; the limit counts the entries returned, not the held ones.
        Assert.Empty(await _store.Queue.GetDueAsync(now, 10, [.. new[] { held, mixed, free }.SelectMany(e => e.Recipients).Select(r => r.Id)], Ct));
        Assert.Equal([mixed.Id], (await _store.Queue.GetDueAsync(now, 1, [held.Recipients[0].Id], Ct)).Select(e => e.Id));
        Assert.Equal([held.Id, mixed.Id, free.Id], (await _store.Queue.GetDueAsync(now, 10, [], Ct)).Select(e => e.Id));
    }

    [Fact]
    public async Task Outcomes_of_several_entries_commit_in_one_write_and_a_missing_entry_fails_alone()
    {
        var done = await QueueAsync("a@one.test");
        var half = await QueueAsync("b@one.test", "c@two.test");
        var gone = await QueueAsync("d@one.test");
        var wrong = await QueueAsync("e@one.test");
        Assert.True(await _store.Queue.DeleteAsync(gone.Id, Ct));
        var later = _time.GetUtcNow().AddMinutes(5);
        var batches = _store.CommittedBatches;

        var missing = await _store.Queue.RecordOutcomesAsync(
        [
            new QueueEntryOutcomes(done.Id, [Delivered(done.Recipients[0])]),
            new QueueEntryOutcomes(gone.Id, [Delivered(gone.Recipients[0])]),
            new QueueEntryOutcomes(half.Id, [Delivered(half.Recipients[0])]),
            new QueueEntryOutcomes(wrong.Id, [Delivered(wrong.Recipients[0]), Delivered(done.Recipients[0])]), // names another entry's recipient
            new QueueEntryOutcomes(half.Id, [new RecipientOutcome(half.Recipients[1].Id, RecipientState.Deferred, "451 later", "mx.two.test", later, false)]),
        ], Ct);

        Assert.Equal([gone.Id, wrong.Id], missing);
        Assert.Equal(batches + 1, _store.CommittedBatches);
        Assert.Null(await _store.Queue.GetAsync(done.Id, Ct)); // every recipient final: removed

        var h = (await _store.Queue.GetAsync(half.Id, Ct))!;
        Assert.Equal((RecipientState.Delivered, 1), (h.Recipients[0].State, h.Recipients[0].Attempts));
        Assert.Equal((RecipientState.Deferred, 1, later, "451 later"), (h.Recipients[1].State, h.Recipients[1].Attempts, h.Recipients[1].NextAttemptAt!.Value, h.Recipients[1].LastReply));

        // The refused entry is untouched (its first outcome was rolled back with it).
        var w = (await _store.Queue.GetAsync(wrong.Id, Ct))!;
        Assert.Equal((RecipientState.Queued, 0), (w.Recipients[0].State, w.Recipients[0].Attempts));

        // The deferred one finishes later; its entry goes then.
        Assert.Empty(await _store.Queue.RecordOutcomesAsync([new QueueEntryOutcomes(half.Id, [Delivered(h.Recipients[1])])], Ct));
        Assert.Null(await _store.Queue.GetAsync(half.Id, Ct));
        Assert.Equal([wrong.Id], (await _store.Queue.ListAsync(Ct)).Select(e => e.Id));
    }
}