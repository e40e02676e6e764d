using System.Diagnostics;

using Pochta.LoadGen.Common;
using Pochta.LoadGen.Smtp;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Imap;

internal sealed record ImapLoadOptions(
    Endpoint Endpoint,
    int Clients,
    TimeSpan Duration,
    string UserPattern,
    int Users,
    string Password,
    int RoundsPerSession,
    int MessageSize);

/// <summary>
/// A realistic IMAP mix. Each client loops sessions until the duration ends:
/// LOGIN, SELECT INBOX, then per round: FETCH headers of a 20-message window (FLAGS,
/// INTERNALDATE, RFC822.SIZE, ENVELOPE, HEADER.FIELDS), FETCH BODY.PEEK[] of 2 messages,
/// STORE a flag, SEARCH (rotating flag/header/date keys); then APPEND a message, mark it
/// \Deleted and UID EXPUNGE it (EXPUNGE without UIDPLUS) so the mailbox keeps its size; LOGOUT.
/// Every tagged command counts once; commands/s = commands / wall time.
/// </summary>
internal static class ImapLoad
{
    private static readonly string[] Kinds = ["login", "select", "fetch_headers", "fetch_body", "store", "search", "append", "expunge", "logout"];

    private static readonly string[] Searches =
    [
        "SEARCH UNSEEN",
        "SEARCH FROM \"alice\"",
        "SEARCH SUBJECT \"report\"",
        "SEARCH SINCE 1-Mar-2025 FLAGGED",
        "UID SEARCH ALL",
        "SEARCH HEADER Message-ID \"0000000042\"",
    ];

    public static async Task<Summary> RunAsync(ImapLoadOptions o, CancellationToken ct)
    {
        var append = MessageFactory.Build(1_000_000, o.MessageSize, "loadgen@bench.test", new Random(7));
        var perClient = new Latency[o.Clients][];
        long commands = 0, sessions = 0, errorsCount = 0;
        var errors = new List<string>();
        var deadline = Stopwatch.GetTimestamp() + (long)(o.Duration.TotalSeconds * Stopwatch.Frequency);
        long start = Stopwatch.GetTimestamp();

        var workers = Enumerable.Range(0, o.Clients).Select(async c =>
        {
            var lat = perClient[c] = Kinds.Select(_ => new Latency()).ToArray();
            var random = new Random(c);
            string user = Pattern.Expand(o.UserPattern, c % o.Users);
            HashSet<string>? capabilities = null;
            while (Stopwatch.GetTimestamp() < deadline && !ct.IsCancellationRequested)
            {
                try
                {
                    await using var imap = await ImapConnection.OpenAsync(o.Endpoint, ct);
                    if (capabilities is null)
                    {
                        await imap.LoadCapabilitiesAsync(ct);
                        capabilities = imap.Capabilities;
                        Interlocked.Increment(ref commands);
                    }
                    else
                    {
                        imap.Capabilities.UnionWith(capabilities);
                    }

                    long t = Stopwatch.GetTimestamp();
                    await imap.LoginAsync(user, o.Password, ct);
                    lat[0].Add(t);
                    t = Stopwatch.GetTimestamp();
                    await imap.SelectAsync("INBOX", ct);
                    lat[1].Add(t);
                    long done = 2;

                    for (int round = 0; round < o.RoundsPerSession && Stopwatch.GetTimestamp() < deadline; round++)
                    {
                        int exists = imap.Exists;
                        if (exists > 0)
                        {
                            int from = 1 + random.Next(Math.Max(1, exists - 19));
                            int to = Math.Min(exists, from + 19);
                            t = Stopwatch.GetTimestamp();
                            Check(await imap.CommandAsync($"FETCH {from}:{to} (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])", null, ct), "FETCH headers");
                            lat[2].Add(t);
                            for (int b = 0; b < 2; b++)
                            {
                                t = Stopwatch.GetTimestamp();
                                Check(await imap.CommandAsync($"FETCH {1 + random.Next(exists)} (BODY.PEEK[])", null, ct), "FETCH body");
                                lat[3].Add(t);
                            }

                            string flag = random.Next(2) == 0 ? "\\Seen" : "\\Flagged";
                            string sign = random.Next(3) == 0 ? "-" : "+";
                            t = Stopwatch.GetTimestamp();
                            Check(await imap.CommandAsync($"STORE {1 + random.Next(exists)} {sign}FLAGS ({flag})", null, ct), "STORE");
                            lat[4].Add(t);
                            done += 4;
                        }

                        t = Stopwatch.GetTimestamp();
                        Check(await imap.CommandAsync(Searches[random.Next(Searches.Length)], null, ct), "SEARCH");
                        lat[5].Add(t);
                        done++;
                    }

                    t = Stopwatch.GetTimestamp();
                    long uid = await imap.AppendAsync("INBOX", "\\Seen", append, ct);
                    lat[6].Add(t);
                    t = Stopwatch.GetTimestamp();
                    if (uid > 0 && imap.Capabilities.Contains("UIDPLUS"))
                    {
                        Check(await imap.CommandAsync($"UID STORE {uid} +FLAGS.SILENT (\\Deleted)", null, ct), "UID STORE");
                        Check(await imap.CommandAsync($"UID EXPUNGE {uid}", null, ct), "UID EXPUNGE");
                    }
                    else
                    {
                        // Without UIDPLUS: find it by its Message-ID, then a plain EXPUNGE.
                        var found = new List<long>();
                        Check(await imap.CommandAsync("UID SEARCH HEADER Message-ID \"1000000.bench\"", line => ParseSearch(line, found), ct), "UID SEARCH");
                        Check(await imap.CommandAsync($"UID STORE {string.Join(',', found.DefaultIfEmpty(1))} +FLAGS.SILENT (\\Deleted)", null, ct), "UID STORE");
                        Check(await imap.CommandAsync("EXPUNGE", null, ct), "EXPUNGE");
                        done++;
                    }

                    lat[7].Add(t);
                    t = Stopwatch.GetTimestamp();
                    await imap.LogoutAsync(ct);
                    lat[8].Add(t);
                    done += 5;
                    Interlocked.Add(ref commands, done);
                    Interlocked.Increment(ref sessions);
                }
                catch (Exception e) when (NetErrors.IsConnectionFailure(e))
                {
                    Interlocked.Increment(ref errorsCount);
                    SmtpLoad.Record(errors, e.Message);
                    if (Interlocked.Read(ref errorsCount) > 100)
                    {
                        break;
                    }
                }
            }
        }).ToArray();
        await Task.WhenAll(workers);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var summary = new Summary("imap")
            .Add("server", $"{o.Endpoint.Host}:{o.Endpoint.Port}")
            .Add("clients", o.Clients)
            .Add("seconds", Math.Round(seconds, 3))
            .Add("sessions", sessions)
            .Add("commands", commands)
            .Add("commands_per_s", Math.Round(commands / seconds, 1))
            .Add("errors", errorsCount);
        for (int k = 0; k < Kinds.Length; k++)
        {
            var p = Latency.Merge(perClient.Where(l => l is not null).Select(l => l[k]));
            summary.Add(Kinds[k] + "_p50_ms", Math.Round(p.P50Ms, 3)).Add(Kinds[k] + "_p99_ms", Math.Round(p.P99Ms, 3));
        }

        if (errors.Count > 0)
        {
            summary.Add("first_error", errors[0]);
        }

        return summary;
    }

    internal static void ParseSearch(ReadOnlySpan<byte> line, List<long> into)
    {
        if (!line.StartsWith("* SEARCH"u8))
        {
            return;
        }

        foreach (var word in System.Text.Encoding.ASCII.GetString(line[8..]).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (long.TryParse(word, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n))
            {
                into.Add(n);
            }
        }
    }

    private static void Check(ImapStatus status, string what)
    {
        if (status != ImapStatus.Ok)
        {
            throw new ProtocolException($"{what} failed: {status}");
        }
    }
}