using System.Buffers;
using System.Text;

using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Tests.Protocol;

/// <summary>Drives a <see cref="Pop3CommandReader"/> over chunked input the way the session does
/// and records every event as a canonical string.</summary>
internal static class ReaderHarness
{
    public static List<string> Run(IEnumerable<byte[]> chunks, bool multiSegment = false, Pop3ReaderLimits? limits = null)
    {
        var reader = new Pop3CommandReader(limits ?? new Pop3ReaderLimits());
        var events = new List<string>();
        var pending = new List<byte>();
        foreach (var chunk in chunks)
        {
            pending.AddRange(chunk);
            while (pending.Count > 0)
            {
                var sequence = multiSegment ? Segmented([.. pending]) : new ReadOnlySequence<byte>([.. pending]);
                var sr = new SequenceReader<byte>(sequence);
                var result = reader.TryReadCommand(ref sr);
                pending.RemoveRange(0, (int)sr.Consumed);
                if (result.Status == Pop3ReadStatus.NeedMoreData)
                {
                    Assert.Empty(pending);
                    break;
                }

                events.Add(Describe(result));
                if (result.Status == Pop3ReadStatus.Fatal)
                {
                    return events;
                }
            }
        }

        return events;
    }

    public static string Describe(Pop3ReadResult result) => result.Status switch
    {
        Pop3ReadStatus.Command => Canonical(result.Command!),
        Pop3ReadStatus.Error => $"ERROR {result.Error} {result.Kind?.ToString() ?? "-"}",
        _ => result.Status.ToString(),
    };

    public static string Canonical(Pop3Command command) => command switch
    {
        UserCommand u => "USER " + u.Name,
        PassCommand p => "PASS " + p.Password,
        ApopCommand a => $"APOP {a.Name} {a.Digest}",
        AuthCommand a => $"AUTH {a.Mechanism ?? "-"} {a.InitialResponse ?? "-"}",
        ListingCommand l => $"{l.Kind.ToString().ToUpperInvariant()} {l.Message?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}",
        MessageCommand m => $"{m.Kind.ToString().ToUpperInvariant()} {m.Message}",
        TopCommand t => $"TOP {t.Message} {t.Lines}",
        SimpleCommand c => c.Kind.ToString().ToUpperInvariant(),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Every split of <paramref name="input"/> into two chunks, plus one byte at a time.</summary>
    public static IEnumerable<byte[][]> Splits(byte[] input)
    {
        for (var i = 0; i <= input.Length; i++)
        {
            yield return [input[..i], input[i..]];
        }

        yield return input.Select(b => new[] { b }).ToArray();
    }

    /// <summary>A sequence with one segment per byte.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}