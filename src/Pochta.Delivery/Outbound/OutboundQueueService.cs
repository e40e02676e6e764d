using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Pochta.Storage;

namespace Pochta.Delivery.Outbound;

/// <summary>
/// The queue runner. Scans the queue for due recipients, groups them by destination and hands
/// each group to a worker task; workers for different destinations run concurrently (bounded by
/// <see cref="OutboundOptions.MaxConnections"/> and, per destination,
/// <see cref="OutboundOptions.MaxConnectionsPerDestination"/>), so a slow domain never holds
/// up the others. Sleeps until the next due time (TimeProvider), a
/// <see cref="IOutboundQueueSignal.Notify"/>, or a worker finishing.
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
    /// <summary>Safety net when something is due but was not dispatched and nothing is running.</summary>
    private static readonly TimeSpan StallPoll = TimeSpan.FromSeconds(5);

    /// <summary>The longest sleep between scans. Short because another process (the admin CLI's
    /// <c>queue retry</c>/<c>flush</c>) may make work due without a signal reaching this one;
    /// an idle scan is one indexed query.</summary>
    private static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(30);

    /// <summary>Pause between scans as a multiple of the last scan's cost (see ExecuteAsync).</summary>
    private const int ScanCostFactor = 4;

    private static readonly TimeSpan MaxScanPause = TimeSpan.FromMilliseconds(250);

    private readonly OutboundOptions _options = options.Value;
    private readonly Lock _gate = new();
    private readonly HashSet<long> _inFlight = [];

    /// <summary>Recipients whose worker ended since the current scan began: the scan's
    /// snapshot may predate their recorded outcome, so it must not dispatch them again (that
    /// would send a delivered recipient twice). Cleared when a scan begins (one scan at a time).</summary>
    private readonly HashSet<long> _finishedDuringScan = [];
    private readonly Dictionary<string, int> _activePerDestination = new(StringComparer.Ordinal);
    private readonly List<Task> _workers = [];
    private int _active;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
                    logger.LogError(ex, "Outbound queue scan failed");
                    sleep = TimeSpan.FromSeconds(30);
                }

                await SleepAsync(sleep, stoppingToken).ConfigureAwait(false);

                // A scan reads every due entry, those in flight included, so under a stream of
                // Notify calls (one per accepted message) back-to-back scans would take the CPU
                // from the deliveries themselves (measured: a quarter of the process in a relay
                // run). Between two scans at least ScanCostFactor times the last one's cost
                // passes; the wake-ups meanwhile are merged into the next scan.
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
        int inFlight;
        lock (_gate)
        {
            inFlight = _inFlight.Count;
            _workers.RemoveAll(t => t.IsCompleted);
            _finishedDuringScan.Clear();
        }

        var due = await store.Queue.GetDueAsync(now, _options.ScanBatchSize + inFlight, cancellationToken).ConfigureAwait(false);

        var groups = new Dictionary<string, (Destination Destination, List<OutboundWorkItem> Items)>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var entry in due)
            {
                var byDestination = new Dictionary<string, (Destination Destination, List<QueueRecipientInfo> Recipients)>(StringComparer.Ordinal);
                foreach (var r in entry.Recipients)
                {
                    if (r.State is RecipientState.Queued or RecipientState.Deferred &&
                        (r.NextAttemptAt is null || r.NextAttemptAt <= now) &&
                        !_inFlight.Contains(r.Id) &&
                        !_finishedDuringScan.Contains(r.Id))
                    {
                        var destination = router.GetDestination(r.Address);
                        if (!byDestination.TryGetValue(destination.Key, out var list))
                        {
                            byDestination[destination.Key] = list = (destination, []);
                        }

                        list.Recipients.Add(r);
                    }
                }

                foreach (var (key, (destination, recipients)) in byDestination)
                {
                    if (!groups.TryGetValue(key, out var group))
                    {
                        groups[key] = group = (destination, []);
                    }

                    group.Items.Add(new OutboundWorkItem(entry, recipients));
                }
            }

            foreach (var (key, (destination, items)) in groups)
            {
                var active = _activePerDestination.GetValueOrDefault(key);

                // The destination's free connections share its messages (a burst to one domain
                // goes over all of them at once, not over one after the other).
                var free = Math.Min(_options.MaxConnectionsPerDestination - active, _options.MaxConnections - _active);
                var chunkSize = Math.Clamp((items.Count + Math.Max(1, free) - 1) / Math.Max(1, free), 1, _options.MaxMessagesPerConnection);
                foreach (var chunk in items.Chunk(chunkSize))
                {
                    if (active >= _options.MaxConnectionsPerDestination || _active >= _options.MaxConnections)
                    {
                        break; // picked up again when a worker finishes
                    }

                    active++;
                    _active++;
                    _activePerDestination[key] = active;
                    foreach (var item in chunk)
                    {
                        foreach (var r in item.Recipients)
                        {
                            _inFlight.Add(r.Id);
                        }
                    }

                    _workers.Add(Task.Run(() => RunWorkerAsync(destination, chunk, cancellationToken), CancellationToken.None));
                }
            }

            inFlight = _inFlight.Count;
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

        // It became due while this scan ran (after `now` was taken): scan again at once instead of
        // waiting for the stall poll.
        if (next.Value > now)
        {
            return TimeSpan.Zero;
        }

        // Due work remains: it is in flight or waiting for a free connection; a worker's end wakes us.
        return inFlight > 0 ? null : StallPoll;
    }

    private async Task RunWorkerAsync(Destination destination, IReadOnlyList<OutboundWorkItem> items, CancellationToken cancellationToken)
    {
        try
        {
            await delivery.DeliverAsync(destination, items, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown: unrecorded recipients stay due and are sent after restart.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Outbound delivery to {Destination} failed", destination.Key);
        }
        finally
        {
            lock (_gate)
            {
                foreach (var item in items)
                {
                    foreach (var r in item.Recipients)
                    {
                        _inFlight.Remove(r.Id);
                        _finishedDuringScan.Add(r.Id);
                    }
                }

                _active--;
                if (--_activePerDestination[destination.Key] == 0)
                {
                    _activePerDestination.Remove(destination.Key);
                }
            }

            signal.Notify();
        }
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