using Pochta.Storage;

namespace Pochta.Delivery.Outbound;

/// <summary>
/// Coalesces the outcome commits of every delivery worker: outcomes that arrive while a write
/// is on its way go together in the next one (one store write operation, one savepoint, for
/// many finished messages), with at most <see cref="MaxWrites"/> writes queued at a time.
/// Each caller's task completes once its outcomes are committed (fsynced, like every store
/// write): batching changes how many messages share a commit, never whether they are committed.
/// A write waits <c>delay</c> first, so that at low rates (where no write is on its way) the
/// outcomes of several messages still share one commit instead of one fsync each.
/// </summary>
internal sealed class OutcomeWriter(IMailStore store, TimeSpan delay)
{
    /// <summary>Two: one committing in the store's writer while the next collects.</summary>
    private const int MaxWrites = 2;

    /// <summary>Entries per write operation, so one operation never holds the writer long.</summary>
    private const int MaxEntriesPerWrite = 256;

    private readonly Lock _gate = new();
    private readonly Queue<(QueueEntryOutcomes Outcomes, TaskCompletionSource<bool> Done)> _pending = new();
    private int _writes;

    /// <summary>Commits the outcomes of one entry; true when recorded, false when the entry (or
    /// one of the recipients) no longer exists (it was deleted meanwhile). Faults with the
    /// store's exception when the write fails.</summary>
    public Task<bool> RecordAsync(long queueId, IReadOnlyList<RecipientOutcome> outcomes)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_gate)
        {
            _pending.Enqueue((new QueueEntryOutcomes(queueId, outcomes), done));
            start = _writes < MaxWrites;
            if (start)
            {
                _writes++;
            }
        }

        if (start)
        {
            _ = WriteLoopAsync();
        }

        return done.Task;
    }

    private async Task WriteLoopAsync()
    {
        while (true)
        {
            if (delay > TimeSpan.Zero)
            {
                // Real time on purpose (not the TimeProvider): a batching pause, not a schedule,
                // so it must also pass under the fake clocks of tests. No token: shutdown waits
                // for outcomes (see OutboundDelivery).
                await Task.Delay(delay, CancellationToken.None).ConfigureAwait(false);
            }

            List<(QueueEntryOutcomes Outcomes, TaskCompletionSource<bool> Done)> batch;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _writes--;
                    return;
                }

                batch = new(Math.Min(_pending.Count, MaxEntriesPerWrite));
                while (batch.Count < MaxEntriesPerWrite && _pending.TryDequeue(out var next))
                {
                    batch.Add(next);
                }
            }

            try
            {
                // CancellationToken.None: shutdown must never cut an outcome commit short (it
                // would widen the duplicate window, see OutboundDelivery).
                var missing = await store.Queue.RecordOutcomesAsync(batch.ConvertAll(b => b.Outcomes), CancellationToken.None).ConfigureAwait(false);
                foreach (var (outcomes, done) in batch)
                {
                    done.TrySetResult(!missing.Contains(outcomes.QueueId));
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, done) in batch)
                {
                    done.TrySetException(ex);
                }
            }
        }
    }
}