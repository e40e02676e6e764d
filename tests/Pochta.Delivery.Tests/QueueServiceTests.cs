using System.Diagnostics;

using Pochta.Delivery.Tests.Fakes;
using Pochta.Storage;

namespace Pochta.Delivery.Tests;

/// <summary>The queue runner (OutboundQueueService) over the fake store, with fake time.</summary>
public sealed class QueueServiceTests : IAsyncLifetime
{
    private readonly Harness _h = new();
    private readonly FakeSmtpServer _fast = new();
    private readonly FakeSmtpServer _slow = new();
    private OutboundQueueService? _service;

    public Task InitializeAsync()
    {
        _h.Options.TransportMap["fast.test"] = _fast.Endpoint;
        _h.Options.TransportMap["slow.test"] = _slow.Endpoint;

        // Fake time moves in big steps here: keep the connect timeout out of the way.
        _h.Options.ConnectTimeout = TimeSpan.FromDays(30);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _slow.Gate?.TrySetResult();
        if (_service is not null)
        {
            await _service.StopAsync(CancellationToken.None);
            _service.Dispose();
        }

        await _fast.DisposeAsync();
        await _slow.DisposeAsync();
        _h.Dispose();
    }

    private async Task StartAsync()
    {
        _service = _h.CreateQueueService();
        await _service.StartAsync(CancellationToken.None);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "timed out waiting for " + what);
            await Task.Delay(10);
        }
    }

    private QueueEntryInfo Enqueue(params string[] recipients)
    {
        var entry = _h.Store.Enqueue("alice@pochta.test", Harness.AsciiMessage, _h.Time.GetUtcNow(), recipients);
        _h.Signal.Notify();
        return entry;
    }

    [Fact]
    public async Task Queued_mail_is_delivered_when_signalled()
    {
        await StartAsync();
        var entry = Enqueue("bob@fast.test");
        await WaitUntilAsync(() => _h.Store.Entry(entry.Id) is null, "delivery");
        Assert.Single(_fast.Delivered);
        Assert.Equal(RecipientState.Delivered, _h.Store.FinalRecipients.Values.Single().State);
    }

    [Fact]
    public async Task Mail_queued_before_start_is_delivered_on_start()
    {
        // Crash recovery: whatever is pending in the store when the runner starts is sent.
        _h.Store.Enqueue("alice@pochta.test", Harness.AsciiMessage, _h.Time.GetUtcNow(), "bob@fast.test", "carol@fast.test");
        await StartAsync();
        await WaitUntilAsync(() => _h.Store.Entries().Count == 0, "delivery after start");
        Assert.Equal(["bob@fast.test", "carol@fast.test"], _fast.Delivered.Single().Accepted);
    }

    [Fact]
    public async Task A_deferred_recipient_is_retried_when_its_time_comes()
    {
        var replies = new Queue<string>(["451 4.3.0 Later", "451 4.3.0 Later", "250 2.1.5 OK"]);
        _fast.RcptReply = _ => replies.Dequeue();
        await StartAsync();
        var entry = Enqueue("bob@fast.test");

        await WaitUntilAsync(() => _h.Store.Entry(entry.Id)?.Recipients[0].Attempts == 1, "first attempt");
        var r = _h.Store.Entry(entry.Id)!.Recipients[0];
        Assert.Equal(Harness.Start + TimeSpan.FromMinutes(1), r.NextAttemptAt);

        _h.Time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(200);
        Assert.Equal(1, _h.Store.Entry(entry.Id)!.Recipients[0].Attempts); // not before its time

        _h.Time.Advance(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => _h.Store.Entry(entry.Id)?.Recipients[0].Attempts == 2, "second attempt");
        Assert.Equal(Harness.Start + TimeSpan.FromMinutes(1 + 5), _h.Store.Entry(entry.Id)!.Recipients[0].NextAttemptAt);

        _h.Time.Advance(TimeSpan.FromMinutes(5));
        await WaitUntilAsync(() => _h.Store.Entry(entry.Id) is null, "delivery on the third attempt");
        Assert.Single(_fast.Delivered);
    }

    [Fact]
    public async Task A_deferred_recipient_is_retried_on_time_while_another_domain_is_stuck()
    {
        // The stuck domain's work is held the whole time (its worker waits for a greeting), so
        // the runner cannot sleep until a worker ends: the retry of the other domain is due.
        _slow.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var replies = new Queue<string>(["451 4.3.0 Later", "250 2.1.5 OK"]);
        _fast.RcptReply = _ => replies.Dequeue();
        await StartAsync();
        var slow = Enqueue("bob@slow.test");
        await _slow.ConnectionWaiting.Task.WaitAsync(TimeSpan.FromSeconds(15));
        var fast = Enqueue("carol@fast.test");
        await WaitUntilAsync(() => _h.Store.Entry(fast.Id)?.Recipients[0].Attempts == 1, "the first attempt");
        await Task.Delay(300); // its worker ends and the scan after it goes to sleep

        _h.Time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => _h.Store.Entry(fast.Id) is null, "the retry, with the stuck domain still held");
        Assert.Single(_fast.Delivered);
        Assert.NotNull(_h.Store.Entry(slow.Id));
    }

    [Fact]
    public async Task A_slow_domain_does_not_hold_up_the_others()
    {
        _slow.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await StartAsync();
        var slow = Enqueue("bob@slow.test");
        await _slow.ConnectionWaiting.Task.WaitAsync(TimeSpan.FromSeconds(15));

        var fast = Enqueue("carol@fast.test");
        await WaitUntilAsync(() => _h.Store.Entry(fast.Id) is null, "the fast domain");
        Assert.NotNull(_h.Store.Entry(slow.Id)); // still waiting for its greeting

        _slow.Gate.SetResult();
        await WaitUntilAsync(() => _h.Store.Entry(slow.Id) is null, "the slow domain");
    }

    [Fact]
    public async Task A_stuck_domain_with_more_than_a_scan_batch_waiting_does_not_hold_up_the_others()
    {
        // Ten messages for a domain that does not answer, batches of three: the runner keeps
        // three of them in memory and parks the rest, so its scans still reach the fast domain's
        // mail (queued after them); once the slow domain answers, the parked ones are read again.
        _h.Options.ScanBatchSize = 3;
        _h.Options.MaxConnectionsPerDestination = 1;
        _slow.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = Enumerable.Range(0, 10).Select(_ => _h.Store.Enqueue("alice@pochta.test", Harness.AsciiMessage, _h.Time.GetUtcNow(), "bob@slow.test").Id).ToList();
        await StartAsync();
        await _slow.ConnectionWaiting.Task.WaitAsync(TimeSpan.FromSeconds(15));

        var fast = Enqueue("carol@fast.test");
        await WaitUntilAsync(() => _h.Store.Entry(fast.Id) is null, "the fast domain");
        Assert.Empty(_slow.Delivered);

        _slow.Gate.SetResult();
        await WaitUntilAsync(() => slow.All(id => _h.Store.Entry(id) is null), "all ten slow messages");
        Assert.Equal(10, _slow.Delivered.Count());
        Assert.Single(_fast.Delivered);
    }

    [Fact]
    public async Task Connections_per_destination_are_limited()
    {
        _h.Options.MaxConnectionsPerDestination = 2;
        _h.Options.MaxMessagesPerConnection = 1;
        _slow.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await StartAsync();
        var ids = Enumerable.Range(0, 5).Select(_ => Enqueue("bob@slow.test").Id).ToList();

        await WaitUntilAsync(() => _slow.Connections == 2, "two connections");
        await Task.Delay(300);
        Assert.Equal(2, _slow.Connections); // the third waits for a free slot

        _slow.Gate.SetResult();
        await WaitUntilAsync(() => ids.All(id => _h.Store.Entry(id) is null), "all five messages");
        Assert.Equal(5, _slow.Delivered.Count());
        Assert.True(_slow.MaxConcurrentConnections <= 2, "more than two simultaneous connections: " + _slow.MaxConcurrentConnections);
    }

    [Fact]
    public async Task A_run_of_messages_for_one_destination_shares_a_connection()
    {
        _fast.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _h.Options.MaxConnectionsPerDestination = 1;
        var ids = Enumerable.Range(0, 4).Select(_ => _h.Store.Enqueue("alice@pochta.test", Harness.AsciiMessage, _h.Time.GetUtcNow(), "bob@fast.test").Id).ToList();
        await StartAsync();
        _fast.Gate.SetResult();
        await WaitUntilAsync(() => ids.All(id => _h.Store.Entry(id) is null), "all four messages");
        Assert.Equal(1, _fast.Connections);
        Assert.Equal(4, _fast.Delivered.Count());
    }

    [Fact]
    public async Task A_burst_for_one_destination_is_shared_by_all_its_connections()
    {
        // Six messages due at once, two connections allowed: both carry some, at the same time
        // (not six over one connection while the other slot stays free). The split depends on
        // which connection asks for the next message first.
        _h.Options.MaxConnectionsPerDestination = 2;
        _fast.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ids = Enumerable.Range(0, 6).Select(_ => _h.Store.Enqueue("alice@pochta.test", Harness.AsciiMessage, _h.Time.GetUtcNow(), "bob@fast.test").Id).ToList();
        await StartAsync();
        await WaitUntilAsync(() => _fast.Connections == 2, "two connections");
        _fast.Gate.SetResult();
        await WaitUntilAsync(() => ids.All(id => _h.Store.Entry(id) is null), "all six messages");
        Assert.Equal(2, _fast.Connections);
        Assert.Equal(2, _fast.MaxConcurrentConnections);
        var perConnection = _fast.Delivered.GroupBy(t => t.Connection).Select(g => g.Count()).ToArray();
        Assert.Equal(2, perConnection.Length);
        Assert.Equal(6, perConnection.Sum());
    }

    [Fact]
    public async Task A_destination_with_a_backlog_gets_more_connections_up_to_its_maximum()
    {
        // One connection to start with, three at most: while messages wait, each round of
        // deliveries opens one more (Postfix's concurrency feedback).
        _h.Options.InitialConnectionsPerDestination = 1;
        _h.Options.MaxConnectionsPerDestination = 3;
        var ids = Enumerable.Range(0, 60).Select(_ => _h.Store.Enqueue("alice@pochta.test", Harness.AsciiMessage, _h.Time.GetUtcNow(), "bob@fast.test").Id).ToList();
        await StartAsync();
        await WaitUntilAsync(() => ids.All(id => _h.Store.Entry(id) is null), "all sixty messages");
        Assert.Equal(60, _fast.Delivered.Count());
        Assert.InRange(_fast.MaxConcurrentConnections, 2, 3);
        Assert.InRange(_fast.Connections, 2, 3);
    }

    [Fact]
    public async Task A_destination_that_defers_everything_stays_at_its_initial_concurrency()
    {
        _h.Options.InitialConnectionsPerDestination = 1;
        _h.Options.MaxConnectionsPerDestination = 3;
        _fast.RcptReply = _ => "451 4.3.0 Later";
        var ids = Enumerable.Range(0, 30).Select(_ => _h.Store.Enqueue("alice@pochta.test", Harness.AsciiMessage, _h.Time.GetUtcNow(), "bob@fast.test").Id).ToList();
        await StartAsync();
        await WaitUntilAsync(() => ids.All(id => _h.Store.Entry(id)?.Recipients[0].Attempts == 1), "one attempt each");
        Assert.Equal(1, _fast.MaxConcurrentConnections);
    }

    [Fact]
    public async Task A_scan_that_read_the_queue_before_a_worker_finished_does_not_send_its_recipient_again()
    {
        // bob (fast) and carol (slow, held) share one entry, so it stays queued after bob's delivery.
        _fast.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _slow.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entry = _h.Store.Enqueue("alice@pochta.test", Harness.AsciiMessage, _h.Time.GetUtcNow(), "bob@fast.test", "carol@slow.test");
        await StartAsync();
        await WaitUntilAsync(() => _fast.Connections == 1 && _slow.Connections == 1, "both workers connected");

        // The next scan takes its snapshot (bob still queued, in flight) and is held there while
        // bob's worker delivers, records and ends.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var snapshotTaken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _h.Store.AfterDueSnapshot = async () =>
        {
            _h.Store.AfterDueSnapshot = null;
            snapshotTaken.TrySetResult();
            await held.Task;
        };
        _h.Signal.Notify();
        await snapshotTaken.Task.WaitAsync(TimeSpan.FromSeconds(15));
        _fast.Gate.SetResult();
        await WaitUntilAsync(() => _h.Recipient(entry.Id, "bob@fast.test").State == RecipientState.Delivered, "bob delivered");
        await Task.Delay(200); // bob's worker ends (in-flight mark removed)
        held.SetResult();

        await Task.Delay(500);
        Assert.Single(_fast.Delivered); // the stale snapshot did not dispatch bob a second time
        _slow.Gate.SetResult();
        await WaitUntilAsync(() => _h.Store.Entry(entry.Id) is null, "carol delivered");
        Assert.Single(_fast.Delivered);
    }
}