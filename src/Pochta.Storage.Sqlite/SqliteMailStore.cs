using System.Collections.Concurrent;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pochta.Storage.Sqlite;

/// <summary>
/// The embedded store: SQLite (WAL, synchronous=FULL) in <c>DATA/pochta.db</c>, small bodies
/// inside it, large bodies as content-addressed files in <c>DATA/blobs/</c>, staged bodies in
/// <c>DATA/tmp/</c>. All writes go through one group-commit writer; reads use a pool of
/// read-only connections (WAL snapshots). Usable without DI (tests, CLI):
/// <c>new SqliteMailStore(new SqliteStoreOptions { DataDirectory = dir }, TimeProvider.System)</c>,
/// then <see cref="InitializeAsync"/>.
/// </summary>
public sealed class SqliteMailStore : IMailStore
{
    private readonly ConcurrentBag<Db> _readers = [];
    private readonly ILogger _logger;
    private readonly Lock _initLock = new();
    private GroupCommitWriter? _writer;
    private int _idleReaders;
    private bool _disposed;
    private FileStream? _ownerLock;
    private long _lastRead;

    public SqliteMailStore(SqliteStoreOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DataDirectory);
        Options = options;
        Time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        DataDirectory = Path.GetFullPath(options.DataDirectory);
        DatabasePath = Path.Combine(DataDirectory, "pochta.db");
        TempDirectory = Path.Combine(DataDirectory, "tmp");
        Blobs = new BlobFiles(Path.Combine(DataDirectory, "blobs"), _logger, TryTakeOwnership);
        var bus = new ChangeBus(_logger);
        Changes = bus;
        Directory = new SqliteDirectoryStore(this);
        Mailboxes = new SqliteMailboxStore(this);
        Messages = new SqliteMessageStore(this);
        Queue = new SqliteQueueStore(this);
    }

    public IDirectoryStore Directory { get; }

    public IMailboxStore Mailboxes { get; }

    public IMessageStore Messages { get; }

    public IQueueStore Queue { get; }

    public IChangeBus Changes { get; }

    /// <summary>Absolute data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>Transactions committed by the writer since start (group commit shows as fewer
    /// batches than operations).</summary>
    public long CommittedBatches => _writer?.Batches ?? 0;

    /// <summary>Write operations committed since start.</summary>
    public long CommittedOperations => _writer?.Operations ?? 0;

    internal SqliteStoreOptions Options { get; }

    internal TimeProvider Time { get; }

    internal string DatabasePath { get; }

    internal string TempDirectory { get; }

    internal BlobFiles Blobs { get; }

    internal GroupCommitWriter Writer => _writer ?? throw new InvalidOperationException("The store is not initialized: call InitializeAsync first.");

    /// <summary>Creates the directories, applies migrations, recovers from an unclean stop,
    /// then starts the writer. Idempotent.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_initLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null)
            {
                return Task.CompletedTask;
            }

            CreatePrivateDirectory(DataDirectory);
            CreatePrivateDirectory(TempDirectory);
            Blobs.EnsureLayout();
            var db = Db.Open(DatabasePath, writer: true);
            bool owner;
            try
            {
                var applied = Schema.Apply(db);
                if (applied > 0)
                {
                    _logger.LogInformation("Applied {Count} schema migrations to {Path}", applied, DatabasePath);
                }

                owner = TryTakeOwnership();
                if (owner)
                {
                    Recover(db);
                }
                else
                {
                    // Another process (the server, while the CLI runs) owns the data directory:
                    // its staged files and not-yet-committed blob files must not be touched.
                    _logger.LogInformation("{Path} is in use by another process: recovery skipped, blob files are left to the owner", DataDirectory);
                }
            }
            catch
            {
                db.Dispose();
                throw;
            }

            // Only the owner reclaims in the background (it alone may unlink the freed files); what
            // another process frees is reclaimed by the owner after its next write, or at its start.
            var batch = Options.ReclaimBatchSize;
            var background = owner && batch > 0
                ? new BackgroundWork(Reclaimer.HasWork, ctx => Reclaimer.Step(ctx, batch), () => Volatile.Read(ref _lastRead), Options.ReclaimQuietPeriod, Options.ReclaimMaxDeferral)
                : null;
            _writer = new GroupCommitWriter(db, Time, Changes, Blobs, Options, _logger, background);
        }

        return Task.CompletedTask;
    }

    /// <summary>Recovery after an unclean stop. Uncommitted transactions vanished with the WAL
    /// rollback; what can be left over is outside the database: staged temp files, and blob
    /// files linked before a commit that never happened (or whose unlink after the last
    /// reference went was interrupted).</summary>
    private void Recover(Db db)
    {
        var staged = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(TempDirectory))
        {
            File.Delete(file);
            staged++;
        }

        // Unreferenced messages and blobs are still listed in message_garbage (reclaimed in the
        // background from now on); a blob_garbage row can survive a crash between a commit and
        // its unlinks, and the file pass below covers it.
        db.Exec("DELETE FROM blob_garbage");

        var blobs = Blobs.RemoveUnreferenced(hash => db.Scalar("SELECT 1 FROM blobs WHERE hash = $h AND data IS NULL", ("$h", hash)) is not null);
        if (staged + blobs > 0)
        {
            _logger.LogWarning("Recovery removed {Staged} staged files and {Blobs} unreferenced blob files", staged, blobs);
        }
    }

    /// <summary>The exclusive owner (an advisory lock on <c>store.lock</c>) runs recovery and
    /// unlinks freed blob files. A second process on the same directory (the admin CLI while
    /// the server runs) reads and writes rows normally but leaves files to the owner, because
    /// it cannot see the owner's in-flight blob files.</summary>
    private bool TryTakeOwnership()
    {
        lock (_initLock)
        {
            if (_ownerLock is not null)
            {
                return true;
            }

            if (_disposed)
            {
                return false;
            }

            try
            {
                _ownerLock = new FileStream(Path.Combine(DataDirectory, "store.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return true;
            }
            catch (IOException)
            {
                return false;
            }
        }
    }

    /// <summary>Mail is private: the data directory and its parts are owner-only (0700) on POSIX.</summary>
    internal static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
        }
        else
        {
            System.IO.Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    internal Task<T> ReadAsync<T>(Func<Db, T> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        try
        {
            return Task.FromResult(Read(read));
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    /// <summary>Runs a read on a pooled read-only connection (its own WAL snapshot).</summary>
    internal T Read<T>(Func<Db, T> read)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _ = Writer;
        // Background reclamation yields to readers (GroupCommitWriter: it waits for a quiet moment).
        Volatile.Write(ref _lastRead, System.Diagnostics.Stopwatch.GetTimestamp());
        var db = RentReader();
        try
        {
            return read(db);
        }
        finally
        {
            ReturnReader(db);
            Volatile.Write(ref _lastRead, System.Diagnostics.Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Reclaims now, through the writer, every message that no mailbox entry or queue
    /// entry references any more and every body that no message names (otherwise done in the
    /// background after expunges and deletions). For tests and administration; completes when
    /// nothing is left to reclaim.</summary>
    public async Task ReclaimAsync(CancellationToken cancellationToken)
    {
        var batch = Options.ReclaimBatchSize > 0 ? Options.ReclaimBatchSize : new SqliteStoreOptions().ReclaimBatchSize;
        while (await WriteAsync(ctx => Reclaimer.Step(ctx, batch), cancellationToken).ConfigureAwait(false))
        {
        }
    }

    /// <summary>Background reclamation steps committed since start.</summary>
    public long ReclaimSteps => _writer?.BackgroundSteps ?? 0;

    internal Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken) =>
        Writer.RunAsync(work, cancellationToken);

    private Db RentReader()
    {
        if (_readers.TryTake(out var db))
        {
            Interlocked.Decrement(ref _idleReaders);
            return db;
        }

        return Db.Open(DatabasePath, writer: false);
    }

    private void ReturnReader(Db db)
    {
        if (_disposed || Volatile.Read(ref _idleReaders) >= Options.MaxIdleReadConnections)
        {
            db.Dispose();
            return;
        }

        Interlocked.Increment(ref _idleReaders);
        _readers.Add(db);
    }

    public async ValueTask DisposeAsync()
    {
        GroupCommitWriter? writer;
        lock (_initLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            writer = _writer;
        }

        if (writer is not null)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }

        while (_readers.TryTake(out var db))
        {
            db.Dispose();
        }

        writer?.DisposeDb();
        lock (_initLock)
        {
            _ownerLock?.Dispose();
            _ownerLock = null;
        }
    }
}