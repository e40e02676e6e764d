using System.Collections.Concurrent;
using System.Diagnostics;

using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Pochta.Storage.Sqlite;

/// <summary>State a write operation sees while it runs inside the batch transaction.</summary>
internal sealed class WriteContext(Db db, TimeProvider time)
{
    private List<MailboxChange>? _events;

    public Db Db { get; } = db;

    public DateTimeOffset Now { get; private set; }

    public long NowMs => Now.ToUnixTimeMilliseconds();

    internal void Begin(List<MailboxChange> events)
    {
        Now = time.GetUtcNow();
        _events = events;
    }

    /// <summary>Queues an event to be published after the batch commits.</summary>
    public void Publish(long accountId, long mailboxId, MailboxChangeKind kind, ulong modSeq) =>
        _events!.Add(new MailboxChange(accountId, mailboxId, kind, modSeq));
}

internal abstract class WriteOp
{
    public List<MailboxChange> Events { get; } = [];

    public abstract CancellationToken Token { get; }

    public abstract void Execute(WriteContext context);

    public abstract void Succeed();

    public abstract void Fail(Exception exception);

    public abstract void Cancel();
}

internal sealed class WriteOp<T>(Func<WriteContext, T> work, CancellationToken token) : WriteOp
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Task => _completion.Task;

    public override CancellationToken Token => token;

    public override void Execute(WriteContext context) => _result = work(context);

    public override void Succeed() => _completion.TrySetResult(_result!);

    public override void Fail(Exception exception) => _completion.TrySetException(exception);

    public override void Cancel() => _completion.TrySetCanceled(token);
}

/// <summary>Background work of the writer (lazy reclamation): <see cref="HasWork"/> runs inside
/// every foreground batch (cheap), <see cref="Step"/> in its own transaction only while no
/// foreground operation waits, and returns whether more work remains.
/// <para>It also yields to readers: a step runs only after <see cref="QuietPeriod"/> without a read
/// starting or ending (<see cref="LastRead"/>, a <see cref="Stopwatch"/> timestamp), unless it has
/// waited for <see cref="MaxDeferral"/>; then steps run paced under any load.</para></summary>
internal sealed record BackgroundWork(Func<Db, bool> HasWork, Func<WriteContext, bool> Step, Func<long> LastRead, TimeSpan QuietPeriod, TimeSpan MaxDeferral);

/// <summary>One background step as an operation: nobody awaits it; a failure is logged by the batch.</summary>
internal sealed class BackgroundOp(Func<WriteContext, bool> step) : WriteOp
{
    public bool More { get; private set; }

    public bool Failed { get; private set; }

    public override CancellationToken Token => CancellationToken.None;

    public override void Execute(WriteContext context) => More = step(context);

    public override void Succeed()
    {
    }

    public override void Fail(Exception exception) => Failed = true;

    public override void Cancel()
    {
    }
}

/// <summary>
/// Group commit. Every write of the store is an operation on one queue, drained by one loop on
/// a dedicated thread that owns the only write connection. Whatever queued up while the
/// previous COMMIT was being fsynced runs as one transaction (each operation inside its own
/// SAVEPOINT, so one failing operation does not fail its neighbours), then one COMMIT = one
/// WAL fsync (synchronous=FULL). Callers' tasks complete after that COMMIT, on the thread pool
/// (never inline on the writer), and only then are the batch's change events published.
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly BlockingCollection<WriteOp> _queue = [];
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Db _db;
    private readonly WriteContext _context;
    private readonly IChangeBus _bus;
    private readonly BlobFiles _blobs;
    private readonly ILogger _logger;
    private readonly int _maxBatch;
    private readonly Action<int>? _beforeCommit;
    private readonly BackgroundWork? _background;
    private bool _backgroundPending;
    private long _backgroundResume;
    private long _backgroundDeferredSince;
    private long _batches;
    private long _operations;
    private long _backgroundSteps;

    public GroupCommitWriter(Db db, TimeProvider time, IChangeBus bus, BlobFiles blobs, SqliteStoreOptions options, ILogger logger, BackgroundWork? background = null)
    {
        _background = background;
        _backgroundPending = background is not null;
        _db = db;
        _context = new WriteContext(db, time);
        _bus = bus;
        _blobs = blobs;
        _logger = logger;
        _maxBatch = options.MaxBatchSize;
        _beforeCommit = options.BeforeBatchCommit;

        // A plain thread (no task scheduler, no synchronization context): continuations that a
        // change-bus handler might run inline here go back to the thread pool at their next await.
        new Thread(Loop) { IsBackground = true, Name = "pochta-store-writer" }.Start();
    }

    /// <summary>Committed transactions so far (for tests and metrics).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Operations committed so far.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Background steps committed so far (not counted in <see cref="Batches"/> or <see cref="Operations"/>).</summary>
    public long BackgroundSteps => Interlocked.Read(ref _backgroundSteps);

    public Task<T> RunAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var op = new WriteOp<T>(work, cancellationToken);
        try
        {
            _queue.Add(op, CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(SqliteMailStore)));
        }

        return op.Task;
    }

    /// <summary>Stops taking work, lets the queued operations commit, ends the thread.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.CompleteAdding();
        await _stopped.Task.ConfigureAwait(false);
        _queue.Dispose();
    }

    /// <summary>Closes the write connection (after <see cref="DisposeAsync"/>).</summary>
    public void DisposeDb() => _db.Dispose();

    private void Loop()
    {
        var batch = new List<WriteOp>(_maxBatch);
        try
        {
            while (true)
            {
                // Foreground first: background work runs only when nothing is queued, one small
                // step (its own short transaction) at a time, so a write that arrives meanwhile
                // waits for at most one step. Blocks this dedicated thread only; whatever arrives
                // during a COMMIT forms the next batch.
                WriteOp? first;
                if (_backgroundPending)
                {
                    // Paced: after a step, the loop waits about as long as the step took (so
                    // background work uses at most about half of one core and leaves the rest
                    // to the sessions), taking any foreground write that arrives meanwhile.
                    var remaining = _backgroundResume - Stopwatch.GetTimestamp();
                    var wait = Math.Max(remaining > 0 ? (int)Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency) : 0, ReadersBusyFor());
                    if (!_queue.TryTake(out first, wait))
                    {
                        if (_queue.IsAddingCompleted)
                        {
                            // Stopping: drain what is queued; the rest of the work resumes at the next start.
                            _backgroundPending = false;
                            continue;
                        }

                        if (ReadersBusyFor() == 0)
                        {
                            RunBackgroundStep();
                        }

                        continue;
                    }
                }
                else if (!_queue.TryTake(out first, Timeout.Infinite))
                {
                    break;
                }

                Take(batch, first);
                while (batch.Count < _maxBatch && _queue.TryTake(out var op))
                {
                    Take(batch, op);
                }

                if (batch.Count > 0)
                {
                    try
                    {
                        RunBatch(batch);
                    }
                    catch (Exception ex)
                    {
                        // The loop must survive anything, or every later write would wait forever.
                        _logger.LogCritical(ex, "Write loop failure");
                        foreach (var op in batch)
                        {
                            op.Fail(ex);
                        }
                    }

                    batch.Clear();
                }
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>Milliseconds until readers have been quiet for the work's quiet period (0: quiet
    /// now, or the work has been deferred for its maximum and runs regardless).</summary>
    private int ReadersBusyFor()
    {
        var work = _background!;
        var now = Stopwatch.GetTimestamp();
        var quiet = (long)(work.QuietPeriod.TotalSeconds * Stopwatch.Frequency);
        var since = now - work.LastRead();
        if (since >= quiet)
        {
            _backgroundDeferredSince = 0;
            return 0;
        }

        if (_backgroundDeferredSince == 0)
        {
            _backgroundDeferredSince = now;
        }

        var deferralLeft = work.MaxDeferral - Stopwatch.GetElapsedTime(_backgroundDeferredSince, now);
        if (deferralLeft <= TimeSpan.Zero)
        {
            return 0;
        }

        var quietLeft = (quiet - since) * 1000.0 / Stopwatch.Frequency;
        return Math.Max(1, (int)Math.Ceiling(Math.Min(quietLeft, deferralLeft.TotalMilliseconds)));
    }

    private void RunBackgroundStep()
    {
        var started = Stopwatch.GetTimestamp();
        var op = new BackgroundOp(_background!.Step);
        try
        {
            // Background work only frees what nothing references, so its COMMIT is not fsynced
            // (synchronous=NORMAL): a crash can only undo it together with every later commit
            // (the WAL is written in order and the next foreground COMMIT's fsync covers its
            // frames), which leaves its rows listed for reclamation again. A file it unlinked
            // then has a row again but no reference: nobody reads it, a new delivery of the same
            // bytes links the file anew before its row commits (BlobFiles.Publish), and the next
            // step frees the row.
            _db.ExecRaw("PRAGMA synchronous = NORMAL");
            try
            {
                RunBatch([op], background: true);
            }
            finally
            {
                _db.ExecRaw("PRAGMA synchronous = FULL");
            }
        }
        catch (Exception ex)
        {
            _logger.LogCritical(ex, "Write loop failure in background work");
            op.Fail(ex);
        }

        // After a failure the work waits for the next foreground batch to look again (no hot loop).
        _backgroundPending = op.More && !op.Failed;
        var now = Stopwatch.GetTimestamp();
        _backgroundResume = now + (now - started);
    }

    private static void Take(List<WriteOp> batch, WriteOp op)
    {
        if (op.Token.IsCancellationRequested)
        {
            op.Cancel();
            return;
        }

        batch.Add(op);
    }

    /// <summary>Quota enforcement at the end of each operation, inside its savepoint: an
    /// account whose usage grew in this operation and now passes a limit fails the operation
    /// (rolled back whole, <see cref="QuotaExceededException"/>). Checking the net result, not
    /// each row, lets a MOVE inside one account (copy, then expunge) pass at a full account;
    /// comparing with the usage before the operation lets an account that is already over a
    /// lowered limit still expunge and move. Group commit runs operations one after another,
    /// so concurrent deliveries racing for the last octets are decided exactly.</summary>
    private void CheckQuotas()
    {
        // One statement in the common case (no limited account grew): the table is emptied and
        // what it held comes back.
        List<(long Account, long BytesBefore, long MessagesBefore)>? grown = null;
        using (var r = _db.Query("DELETE FROM quota_growth RETURNING account_id, bytes_before, messages_before"))
        {
            while (r.Read())
            {
                (grown ??= []).Add((r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)));
            }
        }

        if (grown is null)
        {
            return;
        }

        foreach (var (account, bytesBefore, messagesBefore) in grown)
        {
            using var r = _db.Query("SELECT quota, quota_messages, used_bytes, used_messages FROM accounts WHERE id = $a", ("$a", account));
            if (!r.Read())
            {
                continue;
            }

            var (limitBytes, limitMessages, usedBytes, usedMessages) = (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3));

            // The caller rolls the savepoint back (quota_growth included).
            if (limitBytes > 0 && usedBytes > limitBytes && usedBytes > bytesBefore)
            {
                throw new QuotaExceededException(account, QuotaResource.Storage, limitBytes);
            }

            if (limitMessages > 0 && usedMessages > limitMessages && usedMessages > messagesBefore)
            {
                throw new QuotaExceededException(account, QuotaResource.Messages, limitMessages);
            }
        }
    }

    private void RunBatch(List<WriteOp> batch, bool background = false)
    {
        var done = new List<WriteOp>(batch.Count);
        List<string> garbage = [];
        try
        {
            _db.Exec("BEGIN IMMEDIATE");
            foreach (var op in batch)
            {
                _context.Begin(op.Events);
                _db.Exec("SAVEPOINT op");
                try
                {
                    op.Execute(_context);
                    CheckQuotas();
                    _db.Exec("RELEASE op");
                    done.Add(op);
                }
                catch (Exception ex) when (ex is not SqliteException { SqliteErrorCode: 10 or 13 or 11 })
                {
                    // IOERR / FULL / CORRUPT abort the whole batch (outer catch); anything else
                    // is this operation's own failure (conflict, not found, constraint).
                    _db.Exec("ROLLBACK TO op");
                    _db.Exec("RELEASE op");
                    op.Events.Clear();
                    op.Fail(ex);
                }
            }

            if (_background is not null && !_backgroundPending && done.Count > 0)
            {
                _backgroundPending = _background.HasWork(_db);
            }

            using (var reader = _db.Query("SELECT hash FROM blob_garbage"))
            {
                while (reader.Read())
                {
                    garbage.Add(reader.GetString(0));
                }
            }

            if (garbage.Count > 0)
            {
                _db.Exec("DELETE FROM blob_garbage");
            }

            if (!background)
            {
                _beforeCommit?.Invoke(done.Count);
            }

            _db.Exec("COMMIT");
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Write batch of {Count} operations failed", batch.Count);
            try
            {
                _db.ExecRaw("ROLLBACK");
            }
            catch (SqliteException rollbackError)
            {
                _logger.LogDebug(rollbackError, "Rollback after failed batch");
            }

            // Every operation of the batch fails (those that already failed keep their own error).
            foreach (var op in batch)
            {
                op.Fail(ex);
            }

            return;
        }

        if (background)
        {
            Interlocked.Add(ref _backgroundSteps, done.Count);
        }
        else
        {
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _operations, done.Count);
        }

        // Files whose last reference went are unlinked before the callers hear back, so a
        // completed delete has freed its space.
        if (garbage.Count > 0)
        {
            try
            {
                _blobs.Collect(garbage, hash => _db.Scalar("SELECT 1 FROM blobs WHERE hash = $h", ("$h", hash)) is not null);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Blob file collection failed; recovery will retry");
            }
        }

        foreach (var op in done)
        {
            foreach (var change in op.Events)
            {
                _bus.Publish(change);
            }

            op.Succeed();
        }

    }
}