using Pochta.LoadGen.Common;
using Pochta.LoadGen.Smtp;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Imap;

/// <summary>N connections: LOGIN, SELECT INBOX, IDLE (RFC 2177); held while the server's memory is read.</summary>
internal static class ImapIdle
{
    public static async Task<Summary> RunAsync(Endpoint endpoint, int connections, string userPattern, int users, string password, TimeSpan hold, int? serverPid, int parallel, CancellationToken ct)
    {
        var before = serverPid is { } p ? ProcessMemory.Measure(p) : null;
        var conns = new ImapConnection?[connections];
        var tags = new string?[connections];
        int failed = 0;
        var errors = new List<string>();
        using var gate = new SemaphoreSlim(parallel);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async i =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var imap = await ImapConnection.OpenAsync(endpoint, ct);
                try
                {
                    await imap.LoginAsync(Pattern.Expand(userPattern, i % users), password, ct);
                    await imap.SelectAsync("INBOX", ct);
                    tags[i] = await imap.StartIdleAsync(ct);
                    conns[i] = imap;
                }
                catch
                {
                    await imap.DisposeAsync();
                    throw;
                }
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
        }));

        return await IdleHold.FinishAsync("imap-idle", endpoint, conns, failed, errors, hold, serverPid, before,
            async (c, i, t) =>
            {
                await c.StopIdleAsync(tags[i]!, t);
                await c.LogoutAsync(t);
            }, ct);
    }
}