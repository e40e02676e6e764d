using System.Collections.Concurrent;

namespace Pochta.Storage.Sqlite;

/// <summary>A task scheduler with one dedicated thread: the group-commit loop awaits on it, so
/// the blocking SQLite work (statements, the COMMIT fsync) never occupies a thread-pool thread
/// that sessions need.</summary>
internal sealed class WriterThreadScheduler : TaskScheduler
{
    private readonly BlockingCollection<Task> _tasks = [];
    private readonly Thread _thread;

    public WriterThreadScheduler(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>No more work: the thread ends after the queued tasks.</summary>
    public void Complete() => _tasks.CompleteAdding();

    protected override void QueueTask(Task task) => _tasks.Add(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Thread.CurrentThread == _thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _tasks.ToArray();

    private void Run()
    {
        foreach (var task in _tasks.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }

        _tasks.Dispose();
    }
}