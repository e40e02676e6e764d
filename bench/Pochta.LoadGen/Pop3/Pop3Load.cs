using System.Buffers.Text;
using System.Diagnostics;

using Pochta.LoadGen.Common;
using Pochta.LoadGen.Smtp;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Pop3;

/// <summary>
/// POP3 download-and-delete (RFC 1939): C clients take maildrops from a shared list; per maildrop
/// USER/PASS, STAT, UIDL, then RETR n + DELE n for every message, QUIT (the deletions commit at
/// UPDATE). With listOnly: STAT, LIST, QUIT and nothing deleted (a warm-up that makes a
/// Maildir server compute its sizes before the measured run). Throughput counts messages and bytes received, until the last QUIT's +OK.
/// </summary>
internal static class Pop3Load
{
    public static async Task<Summary> RunAsync(Endpoint endpoint, int clients, string userPattern, int users, int firstUser, string password, TimeSpan timeout, bool listOnly, CancellationToken outer)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        cts.CancelAfter(timeout);
        var ct = cts.Token;
        int nextUser = -1;
        long messages = 0, bytes = 0, errorsCount = 0;
        var errors = new List<string>();
        var latencies = new Latency[clients];
        var deletes = new Latency[clients];
        var logins = new Latency[clients];
        var quits = new Latency[clients];
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var latency = latencies[c] = new Latency();
            var delete = deletes[c] = new Latency();
            var login = logins[c] = new Latency();
            var quit = quits[c] = new Latency();
            while (true)
            {
                int u = Interlocked.Increment(ref nextUser);
                if (u >= users)
                {
                    return;
                }

                try
                {
                    long t0 = Stopwatch.GetTimestamp();
                    await using var pop = await LineClient.ConnectAsync(endpoint, ct);
                    await ExpectOk(pop, ct);
                    await CommandOk(pop, "USER " + Pattern.Expand(userPattern, firstUser + u), ct);
                    await CommandOk(pop, "PASS " + password, ct);
                    await pop.WriteAsync("STAT\r\n", ct);
                    int count = await pop.ReadLineAsync(static line =>
                        line.StartsWith("+OK "u8) && Utf8Parser.TryParse(line[4..], out int n, out _) ? n : throw new ProtocolException("STAT failed"), ct);
                    await CommandOk(pop, listOnly ? "LIST" : "UIDL", ct);
                    await pop.SkipDotTerminatedAsync(ct);
                    login.Add(t0);
                    for (int i = 1; i <= (listOnly ? 0 : count); i++)
                    {
                        long t = Stopwatch.GetTimestamp();
                        await CommandOk(pop, "RETR " + i.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
                        long size = await pop.SkipDotTerminatedAsync(ct);
                        latency.Add(t);
                        t = Stopwatch.GetTimestamp();
                        await CommandOk(pop, "DELE " + i.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
                        delete.Add(t);
                        Interlocked.Increment(ref messages);
                        Interlocked.Add(ref bytes, size);
                    }

                    long tq = Stopwatch.GetTimestamp();
                    await CommandOk(pop, "QUIT", ct);
                    quit.Add(tq);
                }
                catch (Exception e) when (NetErrors.IsConnectionFailure(e))
                {
                    Interlocked.Increment(ref errorsCount);
                    SmtpLoad.Record(errors, e.GetType().Name + ": " + e.Message);
                }
            }
        }));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var summary = new Summary(listOnly ? "pop3-list" : "pop3")
            .Add("server", $"{endpoint.Host}:{endpoint.Port}")
            .Add("clients", clients)
            .Add("maildrops", users)
            .Add("messages", messages)
            .Add("bytes", bytes)
            .Add("seconds", Math.Round(seconds, 3))
            .Add("messages_per_s", Math.Round(messages / seconds, 1))
            .Add("mb_per_s", Math.Round(bytes / seconds / (1024 * 1024), 2))
            .Add("errors", errorsCount)
            .Add("retr", Latency.Merge(latencies))
            .Add("dele_p50_ms", Math.Round(Latency.Merge(deletes).P50Ms, 3))
            .Add("dele_p99_ms", Math.Round(Latency.Merge(deletes).P99Ms, 3))
            .Add("login_to_uidl_p50_ms", Math.Round(Latency.Merge(logins).P50Ms, 3))
            .Add("quit_p50_ms", Math.Round(Latency.Merge(quits).P50Ms, 3))
            .Add("quit_max_ms", Math.Round(Latency.Merge(quits).MaxMs, 3));
        if (errors.Count > 0)
        {
            summary.Add("first_error", errors[0]);
        }

        return summary;
    }

    private static async ValueTask CommandOk(LineClient pop, string command, CancellationToken ct)
    {
        await pop.WriteAsync(command + "\r\n", ct);
        await ExpectOk(pop, ct);
    }

    private static async ValueTask ExpectOk(LineClient pop, CancellationToken ct)
    {
        bool ok = await pop.ReadLineAsync(static line => line.StartsWith("+OK"u8), ct);
        if (!ok)
        {
            throw new ProtocolException("POP3 server replied -ERR");
        }
    }
}