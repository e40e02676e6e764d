using System.Diagnostics;

namespace Pochta.LoadGen.Common;

/// <summary>Per-worker latency samples (Stopwatch ticks); merged once at the end, so no locking on the hot path.</summary>
internal sealed class Latency
{
    private long[] samples = new long[1024];

    public int Count { get; private set; }

    public void Add(long startTimestamp)
    {
        if (Count == samples.Length)
        {
            Array.Resize(ref samples, samples.Length * 2);
        }

        samples[Count++] = Stopwatch.GetTimestamp() - startTimestamp;
    }

    public static Percentiles Merge(IEnumerable<Latency> all)
    {
        var list = all.ToList();
        var merged = new long[list.Sum(l => l.Count)];
        int at = 0;
        foreach (var l in list)
        {
            Array.Copy(l.samples, 0, merged, at, l.Count);
            at += l.Count;
        }

        Array.Sort(merged);
        return new Percentiles(
            merged.Length,
            Ms(merged, 0.50),
            Ms(merged, 0.90),
            Ms(merged, 0.99),
            merged.Length == 0 ? 0 : ToMs(merged[^1]));
    }

    private static double Ms(long[] sorted, double q) =>
        sorted.Length == 0 ? 0 : ToMs(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)]);

    private static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

internal sealed record Percentiles(int Count, double P50Ms, double P90Ms, double P99Ms, double MaxMs);