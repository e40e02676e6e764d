using System.Text;

namespace Pochta.Imap.Tests;

/// <summary>
/// Mutations of the valid commands of <see cref="ReaderTests"/> (bytes flipped, inserted, deleted,
/// tokens spliced in: literals, parentheses, quotes, CR/LF, NUL, 8-bit): the reader never throws,
/// always consumes what it is offered, and gives the same events whole and split at random
/// points. A fixed seed keeps every run identical; a failure prints the input that caused it.
/// </summary>
public class ReaderFuzzTests
{
    private const int Cases = 4000;

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

    public static TheoryData<bool> States => new() { true, false };

    [Theory]
    [MemberData(nameof(States))]
    public void Mutated_commands_never_throw_and_parse_the_same_at_any_split(bool authenticated)
    {
        var seeds = ReaderTests.ValidInputs.Select(row => Encoding.UTF8.GetBytes((string)row[0])).ToArray();
        var random = new Random(20261201 + (authenticated ? 1 : 0));
        for (var i = 0; i < Cases; i++)
        {
            var input = Mutate(seeds[random.Next(seeds.Length)], random, seeds);
            List<string> whole;
            List<string> split;
            try
            {
                whole = ReaderHarness.Run([input], authenticated);
                split = ReaderHarness.Run(Chunks(input, random), authenticated);
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name} {e.Message} for input {Show(input)}");
                return;
            }

            Assert.True(whole.SequenceEqual(split), $"case {i}: split changed the result for input {Show(input)}");
        }
    }

    internal static byte[] Mutate(byte[] seed, Random random, byte[][] seeds)
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

    private static List<byte[]> Chunks(byte[] input, Random random)
    {
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

    internal static string Show(byte[] input) => Convert.ToHexString(input) + " \"" + Encoding.UTF8.GetString(input).ReplaceLineEndings("⏎") + "\"";
}