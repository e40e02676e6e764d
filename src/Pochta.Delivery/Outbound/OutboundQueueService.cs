using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Pochta.Storage;

namespace Pochta.Delivery.Outbound;

/// <summary>
/// The queue runner. Scans the queue for due recipients, groups them by destination into a
/// per-destination list of waiting messages, and runs workers (one connection each) that take
/// messages from their destination's list until it is empty; workers for different
/// destinations run concurrently (bounded by <see cref="OutboundOptions.MaxConnections"/> and,
/// per destination, by a concurrency that starts at
/// <see cref="OutboundOptions.InitialConnectionsPerDestination"/> and grows under backlog up to
/// <see cref="OutboundOptions.MaxConnectionsPerDestination"/>), so a slow domain never holds up
/// the others. Sleeps until the next due time (TimeProvider), a
/// <see cref="IOutboundQueueSignal.Notify"/>, or a worker finishing.
///
/// What the runner holds (waiting or in flight) is in memory only: a scan asks the store for
/// due work other than that, and after a crash every recipient that is not final is due again.
/// </summary>
public sealed class OutboundQueueService(
    IMailStore store,
    OutboundDelivery delivery,
    OutboundRouter router,
    OutboundQueueSignal signal,
    IOptions<OutboundOptions> options,
    TimeProvider timeProvider,
    ILogger<OutboundQueueService> logger) : BackgroundService
{
    /// <summary>How soon to look again while due work is held: it hides the next due time of the
    /// rest. Also the safety net when something is due but was not dispatched.</summary>
    private static readonly TimeSpan StallPoll = TimeSpan.FromSeconds(5);

    /// <summary>The longest sleep between scans. Short because another process (the admin CLI's
    /// <c>queue retry</c>/<c>flush</c>) may make work due without a signal reaching this one;
    /// an idle scan is one indexed query.</summary>
    private static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(30);

    /// <summary>Pause between scans as a multiple of the last scan's cost (see ExecuteAsync).</summary>
    private const int ScanCostFactor = 4;

    private static readonly TimeSpan MaxScanPause = TimeSpan.FromMilliseconds(250);

    private readonly OutboundOptions _options = options.Value;
    private readonly OutboundDelivery _delivery = delivery;
    private readonly ILogger _logger = logger;
    private readonly Lock _gate = new();

    /// <summary>Recipients the runner holds: waiting in a destination's list or in flight. A
    /// scan excludes them, so it reads only new work.</summary>
    private readonly HashSet<long> _held = [];

    /// <summary>Recipients released since the current scan began: the scan's snapshot may
    /// predate their recorded outcome, so it must not dispatch them again (that would send a
    /// delivered recipient twice). Cleared when a scan begins (one scan at a time).</summary>
    private readonly HashSet<long> _finishedDuringScan = [];
    private readonly Dictionary<string, DestinationWork> _destinations = new(StringComparer.Ordinal);
    private readonly List<Task> _workers = [];
    private CancellationToken _stopping;
    private int _active;

    private int InitialConcurrency => Math.Min(_options.InitialConnectionsPerDestination, _options.MaxConnectionsPerDestination);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        try
        {
            var scanCost = TimeSpan.Zero;
            while (!stoppingToken.IsCancellationRequested)
            {
                TimeSpan? sleep;
                try
                {
                    var started = timeProvider.GetTimestamp();
                    sleep = await ScanAsync(stoppingToken).ConfigureAwait(false);
                    scanCost = timeProvider.GetElapsedTime(started);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    _logger.LogError(ex, "Outbound queue scan failed");
                    sleep = TimeSpan.FromSeconds(30);
                }

                await SleepAsync(sleep, stoppingToken).ConfigureAwait(false);

                // Under a stream of Notify calls (one per accepted message) back-to-back scans
                // would take the CPU from the deliveries themselves (measured: a quarter of the
                // process in a relay run when a scan read the work in flight too). Between two
                // scans at least ScanCostFactor times the last one's cost passes; the wake-ups
                // meanwhile are merged into the next scan.
                var pause = scanCost * ScanCostFactor;
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause < MaxScanPause ? pause : MaxScanPause, timeProvider, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Task[] running;
            lock (_gate)
            {
                running = [.. _workers];
            }

            try
            {
                await Task.WhenAll(running).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Dispatches due work; returns how long to sleep (null: until signalled).</summary>
    private async Task<TimeSpan?> ScanAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        long[] held;
        lock (_gate)
        {
            _workers.RemoveAll(t => t.IsCompleted);
            _finishedDuringScan.Clear();
            held = [.. _held];
        }

        var due = await store.Queue.GetDueAsync(now, _options.ScanBatchSize, held, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var entry in due)
            {
                Add(entry, now);
            }
        }

        // A full batch: more may be due. The next scan (paced, see ExecuteAsync) reads on from
        // there, as everything this one read is now held.
        var truncated = due.Count >= _options.ScanBatchSize;

        lock (_gate)
        {
            foreach (var work in _destinations.Values)
            {
                Dispatch(work);
            }
        }

        var next = await store.Queue.GetNextDueAsync(cancellationToken).ConfigureAwait(false);
        if (next is null)
        {
            return null;
        }

        var wait = next.Value - timeProvider.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            return wait < MaxSleep ? wait : MaxSleep;
        }

        // It became due while this scan ran (after `now` was taken), or the batch was full: scan
        // again at once instead of waiting for the stall poll.
        if (next.Value > now || truncated)
        {
            return TimeSpan.Zero;
        }

        // Due work remains, held (in flight, waiting for a connection, parked). It hides the
        // next due time of what is not held (a deferred recipient's retry), and a worker may
        // run for long (a stuck destination, a large backlog): look again after the stall poll
        // even if no worker ends and no mail arrives meanwhile.
        return StallPoll;
    }

    /// <summary>Puts an entry's due recipients that are not held into their destinations' lists (under the gate).</summary>
    private void Add(QueueEntryInfo entry, DateTimeOffset now)
    {
        Dictionary<string, (Destination Destination, List<QueueRecipientInfo> Recipients)>? byDestination = null;
        foreach (var r in entry.Recipients)
        {
            if (r.State is RecipientState.Queued or RecipientState.Deferred &&
                (r.NextAttemptAt is null || r.NextAttemptAt <= now) &&
                !_held.Contains(r.Id) &&
                !_finishedDuringScan.Contains(r.Id))
            {
                var destination = router.GetDestination(r.Address);
                byDestination ??= new(StringComparer.Ordinal);
                if (!byDestination.TryGetValue(destination.Key, out var list))
                {
                    byDestination[destination.Key] = list = (destination, []);
                }

                list.Recipients.Add(r);
            }
        }

        if (byDestination is null)
        {
            return;
        }

        foreach (var (key, (destination, recipients)) in byDestination)
        {
            if (!_destinations.TryGetValue(key, out var work))
            {
                _destinations[key] = work = new DestinationWork(destination, InitialConcurrency);
            }

            foreach (var r in recipients)
            {
                _held.Add(r.Id);
            }

            // A destination that cannot keep up (down, slow) keeps at most a batch in memory;
            // the rest is only marked held, so that scans read past it to other destinations'
            // work, and given back to the store's due list once its list runs low.
            if (work.Waiting.Count >= _options.ScanBatchSize)
            {
                work.Parked.AddRange(recipients.Select(r => r.Id));
            }
            else
            {
                work.Waiting.Enqueue(new OutboundWorkItem(entry, recipients));
            }
        }
    }

    /// <summary>Starts workers for a destination's waiting messages while it and the whole runner
    /// have free connections (under the gate). The workers of a destination take its messages
    /// one at a time, so a burst to one domain goes over all of its connections at once.</summary>
    private void Dispatch(DestinationWork work)
    {
        if (_stopping.IsCancellationRequested)
        {
            return; // shutdown waits for the workers it knows of; none start after
        }

        var starting = Math.Min(Math.Min(work.Limit - work.Active, _options.MaxConnections - _active), work.Waiting.Count);
        for (var i = 0; i < starting; i++)
        {
            work.Active++;
            _active++;
            var worker = new Worker(this, work);
            _workers.Add(Task.Run(() => worker.RunAsync(_stopping), CancellationToken.None));
        }
    }

    /// <summary>One destination's waiting messages and connection count (under the gate).</summary>
    private sealed class DestinationWork(Destination destination, int limit)
    {
        public Destination Destination { get; } = destination;

        public Queue<OutboundWorkItem> Waiting { get; } = new();

        /// <summary>Held recipients beyond the waiting list's bound (read again from the store later).</summary>
        public List<long> Parked { get; } = [];

        public int Active { get; set; }

        /// <summary>Connections this destination may have now.</summary>
        public int Limit { get; set; } = limit;

        /// <summary>Messages delivered since the limit last changed.</summary>
        public int Delivered { get; set; }
    }

    /// <summary>One connection's run: its destination's waiting messages as long as there are any.</summary>
    private sealed class Worker(OutboundQueueService owner, DestinationWork work) : IOutboundWorkSource
    {
        /// <summary>Taken and not yet completed (released when the run ends without an outcome).</summary>
        private readonly HashSet<OutboundWorkItem> _open = [];

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            try
            {
                await owner._delivery.DeliverAsync(work.Destination, this, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutdown: unrecorded recipients stay due and are sent after restart.
            }
            catch (Exception ex)
            {
                owner._logger.LogError(ex, "Outbound delivery to {Destination} failed", work.Destination.Key);
            }
            finally
            {
                owner.EndWorker(work, _open);
            }
        }

        public OutboundWorkItem? TryTake()
        {
            lock (owner._gate)
            {
                var taken = work.Waiting.TryDequeue(out var item);
                owner.UnparkIfLow(work);
                if (!taken)
                {
                    return null;
                }

                _open.Add(item!);
                return item;
            }
        }

        public void Completed(OutboundWorkItem item, IReadOnlyList<RecipientAttempt> attempts)
        {
            lock (owner._gate)
            {
                _open.Remove(item);
                owner.Release(item);
                owner.Feedback(work, attempts);
            }
        }
    }

    /// <summary>Releases an item's recipients (under the gate): its outcome is committed, or it
    /// is given back unsent; either way the store says what is still due.</summary>
    private void Release(OutboundWorkItem item)
    {
        foreach (var r in item.Recipients)
        {
            _held.Remove(r.Id);
            _finishedDuringScan.Add(r.Id);
        }
    }

    /// <summary>Concurrency feedback (under the gate), as Postfix's: a destination with messages
    /// waiting gets one more connection after each round of deliveries (as many as it has
    /// connections), up to the maximum; a message whose every recipient was deferred (the
    /// destination is unreachable or refusing for now) takes it back to the initial concurrency.</summary>
    private void Feedback(DestinationWork work, IReadOnlyList<RecipientAttempt> attempts)
    {
        if (attempts.Count > 0 && attempts.All(a => a.Result == AttemptResult.Temporary))
        {
            work.Limit = Math.Min(work.Limit, InitialConcurrency);
            work.Delivered = 0;
            return;
        }

        if (attempts.Any(a => a.Result == AttemptResult.Delivered) && ++work.Delivered >= work.Limit &&
            work.Limit < _options.MaxConnectionsPerDestination && work.Waiting.Count > 0)
        {
            work.Limit++;
            work.Delivered = 0;
            Dispatch(work);
        }
    }

    /// <summary>Gives a destination's parked recipients back to the store's due list once its
    /// waiting list is down to half a batch, and asks for a scan to read them (under the gate).
    /// They were never dispatched, so a scan may read them at once.</summary>
    private void UnparkIfLow(DestinationWork work)
    {
        if (work.Parked.Count > 0 && work.Waiting.Count <= _options.ScanBatchSize / 2)
        {
            foreach (var id in work.Parked)
            {
                _held.Remove(id);
            }

            work.Parked.Clear();
            signal.Notify();
        }
    }

    private void EndWorker(DestinationWork work, HashSet<OutboundWorkItem> open)
    {
        lock (_gate)
        {
            foreach (var item in open)
            {
                Release(item);
            }

            work.Active--;
            _active--;
            UnparkIfLow(work);
            if (work.Active == 0 && work.Waiting.Count == 0 && work.Parked.Count == 0)
            {
                _destinations.Remove(work.Destination.Key);
            }

            // A connection came free: waiting work of any destination may start now.
            foreach (var other in _destinations.Values)
            {
                Dispatch(other);
            }
        }

        signal.Notify();
    }

    private async Task SleepAsync(TimeSpan? sleep, CancellationToken stoppingToken)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var signalled = signal.WaitAsync(wake.Token);
        if (sleep is { } delay)
        {
            var timer = Task.Delay(delay, timeProvider, wake.Token);
            await Task.WhenAny(signalled, timer).ConfigureAwait(false);
        }
        else
        {
            await Task.WhenAny(signalled).ConfigureAwait(false);
        }

        await wake.CancelAsync().ConfigureAwait(false);
        stoppingToken.ThrowIfCancellationRequested();
        try
        {
            await signalled.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}