namespace Pochta.Imap.Protocol;

/// <summary>One range of a sequence set (RFC 9051 §9 seq-range). <see cref="Star"/> stands for
/// <c>*</c>, the largest number in use; a range is unordered on the wire (<c>4:2</c> = <c>2:4</c>).</summary>
public readonly record struct SequenceRange(uint First, uint Last)
{
    public const uint Star = uint.MaxValue;

    /// <summary>Resolves <c>*</c> against <paramref name="max"/> and orders the bounds.</summary>
    public (uint Low, uint High) Resolve(uint max)
    {
        var a = First == Star ? max : First;
        var b = Last == Star ? max : Last;
        return a <= b ? (a, b) : (b, a);
    }
}

/// <summary>An RFC 9051 sequence-set: message sequence numbers or UIDs, or <c>$</c> (the saved
/// search result of RFC 5182 SEARCHRES).</summary>
public sealed class SequenceSet
{
    private SequenceSet(IReadOnlyList<SequenceRange> ranges, bool isSaved)
    {
        Ranges = ranges;
        IsSavedResult = isSaved;
    }

    public static SequenceSet SavedResult { get; } = new([], true);

    public IReadOnlyList<SequenceRange> Ranges { get; }

    /// <summary>The set is <c>$</c>: the session substitutes the saved search result (RFC 5182 §2.1).</summary>
    public bool IsSavedResult { get; }

    public static SequenceSet FromRanges(IReadOnlyList<SequenceRange> ranges) => new(ranges, false);

    public static SequenceSet Of(uint number) => new([new SequenceRange(number, number)], false);

    /// <summary>True when <paramref name="value"/> is in the set, with <c>*</c> meaning <paramref name="max"/>.
    /// RFC 9051 §9: with an empty mailbox <c>*</c> has no value, so a range naming it matches nothing.</summary>
    public bool Contains(uint value, uint max)
    {
        foreach (var r in Ranges)
        {
            var (low, high) = r.Resolve(max);
            if (value >= low && value <= high)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses a sequence set from ASCII bytes; false on any syntax error or a zero.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out SequenceSet? set)
    {
        set = null;
        if (text.Length == 1 && text[0] == (byte)'$')
        {
            set = SavedResult;
            return true;
        }

        var ranges = new List<SequenceRange>();
        var i = 0;
        while (true)
        {
            if (!TryParseNumber(text, ref i, out var first))
            {
                return false;
            }

            var last = first;
            if (i < text.Length && text[i] == (byte)':')
            {
                i++;
                if (!TryParseNumber(text, ref i, out last))
                {
                    return false;
                }
            }

            ranges.Add(new SequenceRange(first, last));
            if (i == text.Length)
            {
                break;
            }

            if (text[i] != (byte)',')
            {
                return false;
            }

            i++;
        }

        set = new SequenceSet(ranges, false);
        return true;
    }

    private static bool TryParseNumber(ReadOnlySpan<byte> text, ref int i, out uint value)
    {
        value = 0;
        if (i < text.Length && text[i] == (byte)'*')
        {
            i++;
            value = SequenceRange.Star;
            return true;
        }

        // RFC 9051 §9: nz-number = digit-nz *DIGIT, at most 4294967295.
        var start = i;
        ulong v = 0;
        while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
        {
            v = (v * 10) + (uint)(text[i] - '0');
            if (v > uint.MaxValue - 1)
            {
                return false;
            }

            i++;
        }

        if (i == start || text[start] == (byte)'0')
        {
            return false;
        }

        value = (uint)v;
        return true;
    }

    public override string ToString()
    {
        if (IsSavedResult)
        {
            return "$";
        }

        var parts = new string[Ranges.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            var r = Ranges[i];
            parts[i] = r.First == r.Last ? Format(r.First) : Format(r.First) + ":" + Format(r.Last);
        }

        return string.Join(',', parts);

        static string Format(uint v) => v == SequenceRange.Star ? "*" : v.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Formats ascending numbers compactly as a sequence set (<c>1:3,7</c>), for
    /// COPYUID, ESEARCH ALL and VANISHED responses.</summary>
    public static string Format(IEnumerable<uint> ascending)
    {
        var sb = new System.Text.StringBuilder();
        uint start = 0, prev = 0;
        var any = false;
        foreach (var v in ascending)
        {
            if (any && v == prev + 1)
            {
                prev = v;
                continue;
            }

            if (any)
            {
                Append(sb, start, prev);
            }

            start = prev = v;
            any = true;
        }

        if (any)
        {
            Append(sb, start, prev);
        }

        return sb.ToString();

        static void Append(System.Text.StringBuilder sb, uint a, uint b)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(a.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (b != a)
            {
                sb.Append(':').Append(b.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}