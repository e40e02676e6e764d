using System.Text;

namespace Pochta.Testing;

/// <summary>
/// Byte-level mutations of valid protocol input for robustness tests: bytes flipped, inserted
/// or deleted, tokens spliced in (literals, parentheses, quotes, CR/LF, NUL, 8-bit, overlong
/// numbers), a second command appended and possibly cut short, the tail dropped. Deterministic
/// for a given <see cref="Random"/>.
/// </summary>
public static class Mutations
{
    private static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "{5}\r\n", "{0}\r\n", "{4294967296}\r\n", "{5+}\r\n", "{99999999999999999999}\r\n", "~{3}\r\n",
            "(", ")", "((", "))", "\"", "\\", "[", "]", "<", ">", "<0.", "*", ":", ",", "$", "%", " ", "  ",
            "\r\n", "\r", "\n", "\0", "NIL", "UID ", "BODY[", "HEADER.FIELDS (", "1:*", "4294967295", "0",
            "-1", "RETURN (", "CHARSET ", "MODSEQ ", "&", "&-", "&Jjo", "\u00e9", "\uFFFD",
        }.Select(Encoding.UTF8.GetBytes),
        [0xFF], [0xC3], [0x80], [0xED, 0xA0, 0x80],
    ];

    /// <summary>One to four edits of <paramref name="seed"/>; <paramref name="seeds"/> supplies appended commands.</summary>
    public static byte[] Mutate(byte[] seed, Random random, byte[][] seeds)
    {
        var bytes = new List<byte>(seed);
        var edits = 1 + random.Next(4);
        for (var e = 0; e < edits; e++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count + 1);
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[Math.Min(at, bytes.Count - 1)] = (byte)random.Next(256);
                    break;
                case 1 when bytes.Count > 0:
                    bytes.RemoveRange(Math.Min(at, bytes.Count - 1), Math.Min(1 + random.Next(8), bytes.Count - Math.Min(at, bytes.Count - 1)));
                    break;
                case 2:
                    bytes.InsertRange(at, Tokens[random.Next(Tokens.Length)]);
                    break;
                case 3:
                    // Two commands in one read, the second possibly cut short.
                    var other = seeds[random.Next(seeds.Length)];
                    bytes.AddRange(other.AsSpan(0, random.Next(other.Length + 1)).ToArray());
                    break;
                case 4 when bytes.Count > 0:
                    bytes.RemoveRange(at == bytes.Count ? bytes.Count - 1 : at, bytes.Count - (at == bytes.Count ? bytes.Count - 1 : at));
                    break;
                default:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Random chunks of 1-7 bytes, as a slow or fragmenting network delivers them.</summary>
    public static List<byte[]> Chunks(byte[] input, Random random)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(random);
        var chunks = new List<byte[]>();
        var start = 0;
        while (start < input.Length)
        {
            var length = Math.Min(input.Length - start, 1 + random.Next(7));
            chunks.Add(input[start..(start + length)]);
            start += length;
        }

        return chunks;
    }

    /// <summary>The input for a failure message: hex, then the text with line ends visible.</summary>
    public static string Show(byte[] input) => Convert.ToHexString(input) + " \"" + Encoding.UTF8.GetString(input).ReplaceLineEndings("⏎") + "\"";

    /// <summary>Well-formed-looking input with other numbers (sequence sets, UIDs, sizes, partial
    /// ranges past the ends, zero, reversed ranges, overflows): each digit run, except an IMAP
    /// literal's size, is replaced by one of <paramref name="numbers"/> with probability ½.</summary>
    public static byte[] Renumber(byte[] seed, Random random, string[] numbers)
    {
        ArgumentNullException.ThrowIfNull(seed);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(numbers);
        var text = Encoding.UTF8.GetString(seed);
        var runs = new List<(int Start, int Length)>();
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsAsciiDigit(text[i]) && (i == 0 || !char.IsAsciiDigit(text[i - 1])))
            {
                var end = i;
                while (end < text.Length && char.IsAsciiDigit(text[end]))
                {
                    end++;
                }

                // Literal sizes stay: changing them only desynchronizes the stream, which the
                // byte-level mutations already do.
                if (end >= text.Length || text[end] is not ('}' or '+'))
                {
                    runs.Add((i, end - i));
                }
            }
        }

        if (runs.Count == 0)
        {
            return seed;
        }

        var builder = new StringBuilder(text);
        foreach (var (start, length) in runs.OrderByDescending(r => r.Start).Where(_ => random.Next(2) == 0))
        {
            builder.Remove(start, length).Insert(start, numbers[random.Next(numbers.Length)]);
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}