using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;

using Pochta.Imap.Protocol;

namespace Pochta.Imap.Tests;

/// <summary>Drives an <see cref="ImapCommandReader"/> over chunked input the way the session does,
/// recording every event as a canonical string.</summary>
internal static class ReaderHarness
{
    public static ImapReaderLimits Limits { get; } = new();

    public static List<string> Run(IEnumerable<byte[]> chunks, bool authenticated = true, bool multiSegment = false, ImapReaderLimits? limits = null)
    {
        var reader = new ImapCommandReader(limits ?? Limits) { Authenticated = authenticated };
        var events = new List<string>();
        var pending = new List<byte>();
        long skip = 0;
        var literal = new List<byte>();
        foreach (var chunk in chunks)
        {
            pending.AddRange(chunk);
            while (true)
            {
                if (skip > 0)
                {
                    var n = (int)Math.Min(skip, pending.Count);
                    literal.AddRange(pending.GetRange(0, n));
                    pending.RemoveRange(0, n);
                    skip -= n;
                    if (skip > 0)
                    {
                        break;
                    }

                    events.Add("LITERAL:" + Encoding.UTF8.GetString([.. literal]));
                    literal.Clear();
                    reader.LiteralConsumed();
                }

                if (pending.Count == 0)
                {
                    break;
                }

                var sequence = multiSegment ? Segmented([.. pending]) : new ReadOnlySequence<byte>([.. pending]);
                var sr = new SequenceReader<byte>(sequence);
                var result = reader.TryRead(ref sr);
                pending.RemoveRange(0, (int)sr.Consumed);
                switch (result.Status)
                {
                    case ReadStatus.NeedMoreData:
                        if (pending.Count != 0)
                        {
                            throw new InvalidOperationException("NeedMoreData must consume everything");
                        }

                        break;
                    case ReadStatus.Request:
                        events.Add("REQ:" + Dump(result.Command));
                        continue;
                    case ReadStatus.NeedContinuation:
                        events.Add("CONT:" + result.LiteralSize);
                        continue;
                    case ReadStatus.AppendLiteral:
                        events.Add("APPEND:" + Dump(result.Append));
                        skip = result.Append!.Size;
                        if (skip == 0)
                        {
                            events.Add("LITERAL:");
                            reader.LiteralConsumed();
                        }

                        continue;
                    default:
                        events.Add(result.Status + ":" + result.Tag + ":" + result.Error);
                        if (result.Status == ReadStatus.Fatal)
                        {
                            return events;
                        }

                        continue;
                }

                break;
            }
        }

        return events;
    }

    public static List<string> RunWhole(string input, bool authenticated = true) => Run([Encoding.UTF8.GetBytes(input)], authenticated);

    private static ReadOnlySequence<byte> Segmented(byte[] data)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(data.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < data.Length; i++)
        {
            last = last.Append(data.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

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

    /// <summary>A canonical structural dump of a parsed value (runtime types, all public properties).</summary>
    public static string Dump(object? value)
    {
        var sb = new StringBuilder();
        DumpInto(sb, value);
        return sb.ToString();
    }

    private static void DumpInto(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                return;
            case string s:
                sb.Append('"').Append(s).Append('"');
                return;
            case SequenceSet set:
                sb.Append("set(").Append(set).Append(')');
                return;
            case IFormattable f when value.GetType().IsPrimitive || value is Enum || value is DateTimeOffset || value is DateOnly:
                sb.Append(f.ToString(null, CultureInfo.InvariantCulture));
                return;
            case bool b:
                sb.Append(b ? "true" : "false");
                return;
            case IEnumerable e:
                sb.Append('[');
                var first = true;
                foreach (var item in e)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    DumpInto(sb, item);
                }

                sb.Append(']');
                return;
        }

        var type = value.GetType();
        sb.Append(type.Name).Append('{');
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (p.Name == "EqualityContract" || p.GetIndexParameters().Length > 0)
            {
                continue;
            }

            sb.Append(p.Name).Append('=');
            DumpInto(sb, p.GetValue(value));
            sb.Append(';');
        }

        sb.Append('}');
    }
}