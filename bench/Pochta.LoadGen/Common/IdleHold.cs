using Pochta.LoadGen.Wire;


namespace Pochta.LoadGen.Common;

/// <summary>Shared tail of the idle modes: settle, measure, hold, close politely.</summary>
internal static class IdleHold
{
    public static async Task<Summary> FinishAsync<T>(
        string mode,
        Endpoint endpoint,
        T?[] clients,
        int failed,
        List<string> errors,
        TimeSpan hold,
        int? serverPid,
        ProcessMemory.Reading? before,
        Func<T, int, CancellationToken, Task> close,
        CancellationToken ct)
        where T : class, IAsyncDisposable
    {
        int open = clients.Count(c => c is not null);

        // Let the server finish its per-connection allocations before reading memory.
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(3, hold.TotalSeconds)), ct);
        var during = serverPid is { } pid ? ProcessMemory.Measure(pid) : null;
        var rest = hold - TimeSpan.FromSeconds(3);
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, ct);
        }

        // Check the connections are still alive (an idle timeout would close them).
        int closed = 0;
        using var closeTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        closeTimeout.CancelAfter(TimeSpan.FromSeconds(120));
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(clients.Select(async (c, i) =>
        {
            if (c is null)
            {
                return;
            }

            await gate.WaitAsync(CancellationToken.None);
            try
            {
                await close(c, i, closeTimeout.Token);
            }
            catch (Exception e) when (NetErrors.IsConnectionFailure(e))
            {
                Interlocked.Increment(ref closed);
            }
            finally
            {
                await c.DisposeAsync();
                gate.Release();
            }
        }));

        var summary = new Summary(mode)
            .Add("server", $"{endpoint.Host}:{endpoint.Port}")
            .Add("open", open)
            .Add("failed", failed)
            .Add("dropped_while_idle", closed)
            .Add("hold_seconds", hold.TotalSeconds);
        if (before is not null && during is not null)
        {
            summary.Add("server_processes_before", before.Processes)
                .Add("server_processes_during", during.Processes)
                .Add("rss_before_kb", before.RssKb)
                .Add("rss_during_kb", during.RssKb)
                .Add("pss_before_kb", before.PssKb)
                .Add("pss_during_kb", during.PssKb)
                .Add("rss_per_connection_kb", open == 0 ? 0 : Math.Round((during.RssKb - before.RssKb) / (double)open, 2))
                .Add("pss_per_connection_kb", open == 0 ? 0 : Math.Round((during.PssKb - before.PssKb) / (double)open, 2));
        }

        if (errors.Count > 0)
        {
            summary.Add("first_error", errors[0]);
        }

        return summary;
    }
}