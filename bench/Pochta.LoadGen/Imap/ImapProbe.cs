using System.Diagnostics;

using Pochta.LoadGen.Common;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Imap;

/// <summary>
/// Single-command latencies on one (large) mailbox: SELECT, UID FETCH 1:* (FLAGS) and
/// SEARCH TEXT, each repeated; reports the median and the worst of the repetitions.
/// </summary>
internal static class ImapProbe
{
    public static async Task<Summary> RunAsync(Endpoint endpoint, string user, string password, string mailbox, string searchText, int repeat, CancellationToken ct)
    {
        await using var imap = await ImapConnection.OpenAsync(endpoint, ct);
        await imap.LoginAsync(user, password, ct);
        var select = new List<double>();
        var fetch = new List<double>();
        var search = new List<double>();
        long fetched = 0, hits = 0;
        for (int i = 0; i < repeat; i++)
        {
            long t = Stopwatch.GetTimestamp();
            await imap.SelectAsync(mailbox, ct);
            select.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);

            long lines = 0;
            t = Stopwatch.GetTimestamp();
            Check(await imap.CommandAsync("UID FETCH 1:* (FLAGS)", _ => lines++, ct), "UID FETCH");
            fetch.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            fetched = lines;

            var found = new List<long>();
            t = Stopwatch.GetTimestamp();
            Check(await imap.CommandAsync("SEARCH TEXT " + ImapConnection.Quote(searchText), line => ImapLoad.ParseSearch(line, found), ct), "SEARCH TEXT");
            search.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            hits = found.Count;
        }

        await imap.LogoutAsync(ct);
        return new Summary("imap-probe")
            .Add("server", $"{endpoint.Host}:{endpoint.Port}")
            .Add("messages", imap.Exists)
            .Add("repeat", repeat)
            .Add("select_median_ms", Median(select)).Add("select_max_ms", Math.Round(select.Max(), 2))
            .Add("uid_fetch_flags_median_ms", Median(fetch)).Add("uid_fetch_flags_max_ms", Math.Round(fetch.Max(), 2))
            .Add("uid_fetch_flags_responses", fetched)
            .Add("search_text_median_ms", Median(search)).Add("search_text_max_ms", Math.Round(search.Max(), 2))
            .Add("search_text_hits", hits);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return Math.Round(sorted[sorted.Count / 2], 2);
    }

    private static void Check(ImapStatus status, string what)
    {
        if (status != ImapStatus.Ok)
        {
            throw new ProtocolException($"{what} failed: {status}");
        }
    }
}