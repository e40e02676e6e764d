namespace Pochta.Storage.Sqlite;

/// <summary>Options of the embedded store (configuration section <c>Storage</c>).</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>Directory holding <c>pochta.db</c> (+ WAL), <c>blobs/</c> and <c>tmp/</c>.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Messages up to this size stay in memory while received and are stored inside
    /// the database, so one WAL fsync covers a whole group commit. Larger ones spill to a temp
    /// file and become blob files.</summary>
    public int SmallBlobThreshold { get; set; } = 128 * 1024;

    /// <summary>Most write operations folded into one transaction.</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>Messages freed per background reclamation step (one short transaction run only
    /// while no other write waits); 0 turns background reclamation off (then only
    /// <see cref="SqliteMailStore.ReclaimAsync"/> frees storage).</summary>
    public int ReclaimBatchSize { get; set; } = 16;

    /// <summary>Background reclamation waits until no read has started or ended for this long:
    /// a lock-step POP3 download measured 40% slower with reclamation running beside it (likely
    /// because each of its commits makes every reader drop its page cache).</summary>
    public TimeSpan ReclaimQuietPeriod { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Longest that background reclamation yields to readers; after it, it runs (paced)
    /// under any load, so storage is freed on a server that is never quiet.</summary>
    public TimeSpan ReclaimMaxDeferral { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Read connections kept open for reuse.</summary>
    public int MaxIdleReadConnections { get; set; } = 16;

    /// <summary>Test hook (crash test): runs on the caller after a large blob file is durable
    /// and before its commit is queued.</summary>
    internal Func<ValueTask>? AfterBlobWritten { get; set; }

    /// <summary>Test hook (crash test): runs on the writer after a batch executed and before COMMIT.</summary>
    internal Action<int>? BeforeBatchCommit { get; set; }
}