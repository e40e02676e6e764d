using Pochta.LoadGen.Common;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Smtp;

/// <summary>
/// Opens N SMTP connections (greeting + EHLO), holds them idle, and reads the server's resident
/// memory (process tree, from /proc) before and while they are held.
/// </summary>
internal static class SmtpIdle
{
    public static async Task<Summary> RunAsync(Endpoint endpoint, int connections, TimeSpan hold, int? serverPid, int parallel, CancellationToken ct)
    {
        var before = serverPid is { } p ? ProcessMemory.Measure(p) : null;
        var clients = new LineClient?[connections];
        int failed = 0;
        var errors = new List<string>();
        using var gate = new SemaphoreSlim(parallel);
        var opening = Enumerable.Range(0, connections).Select(async i =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var (client, _) = await SmtpWire.OpenAsync(endpoint, false, null, null, ct);
                clients[i] = client;
            }
            catch (Exception e) when (NetErrors.IsConnectionFailure(e))
            {
                Interlocked.Increment(ref failed);
                SmtpLoad.Record(errors, e.Message);
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(opening);
        return await IdleHold.FinishAsync("smtp-idle", endpoint, clients, failed, errors, hold, serverPid, before,
            static (c, _, t) => SmtpWire.CommandAsync(c, "QUIT", t).AsTask(), ct);
    }
}