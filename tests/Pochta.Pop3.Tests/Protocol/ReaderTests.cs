using System.Buffers;
using System.Text;

using Pochta.Pop3.Protocol;

using static Pochta.Pop3.Tests.Protocol.ReaderHarness;

namespace Pochta.Pop3.Tests.Protocol;

public class ReaderTests
{
    /// <summary>Input line → canonical description of what the reader must produce.</summary>
    public static TheoryData<string, string> Valid => new()
    {
        { "USER alice@example.test\r\n", "USER alice@example.test" },
        { "user alice\r\n", "USER alice" },
        { "PASS secret with spaces\r\n", "PASS secret with spaces" },
        { "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", "APOP mrose c4c9334bac560ecc979e58001b3e22fb" },
        { "AUTH PLAIN\r\n", "AUTH PLAIN -" },
        { "auth scram-sha-256 biwsbj11c2VyLHI9cm9zZQ==\r\n", "AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9cm9zZQ==" },
        { "AUTH PLAIN =\r\n", "AUTH PLAIN =" },
        { "AUTH\r\n", "AUTH - -" },
        { "STAT\r\n", "STAT" },
        { "stat\r\n", "STAT" },
        { "LIST\r\n", "LIST -" },
        { "LIST 2\r\n", "LIST 2" },
        { "RETR 1\r\n", "RETR 1" },
        { "DELE 0007\r\n", "DELE 7" },
        { "NOOP\r\n", "NOOP" },
        { "RSET\r\n", "RSET" },
        { "TOP 1 0\r\n", "TOP 1 0" },
        { "top 3 2147483647\r\n", "TOP 3 2147483647" },
        { "UIDL\r\n", "UIDL -" },
        { "UIDL 12\r\n", "UIDL 12" },
        { "QUIT\r\n", "QUIT" },
        { "CAPA\r\n", "CAPA" },
        { "STLS\r\n", "STLS" },
        { "Utf8\r\n", "UTF8" },
        { "USER \u00fc\u00dfer\r\n", "USER \u00fc\u00dfer" },
        // Leniencies for hand-typed sessions: bare LF, runs of spaces, trailing spaces.
        { "STAT\n", "STAT" },
        { "TOP  1   5 \r\n", "TOP 1 5" },
        // Errors: the line is consumed and reported; the next command reads normally.
        { "XYZZY\r\n", "ERROR UnknownCommand -" },
        { "\r\n", "ERROR UnknownCommand -" },
        { "STATS\r\n", "ERROR UnknownCommand -" },
        { "STAT 1\r\n", "ERROR Syntax Stat" },
        { "RETR\r\n", "ERROR Syntax Retr" },
        { "RETR 0\r\n", "ERROR InvalidNumber Retr" },
        { "RETR -1\r\n", "ERROR InvalidNumber Retr" },
        { "RETR 2147483648\r\n", "ERROR InvalidNumber Retr" },
        { "RETR 99999999999999999999\r\n", "ERROR InvalidNumber Retr" },
        { "RETR 1 2\r\n", "ERROR Syntax Retr" },
        { "DELE x\r\n", "ERROR InvalidNumber Dele" },
        { "TOP 1\r\n", "ERROR Syntax Top" },
        { "TOP 1 -1\r\n", "ERROR InvalidNumber Top" },
        { "TOP 0 1\r\n", "ERROR InvalidNumber Top" },
        { "LIST 1 2\r\n", "ERROR Syntax List" },
        { "USER\r\n", "ERROR Syntax User" },
        { "USER a b\r\n", "ERROR Syntax User" },
        { "PASS\r\n", "ERROR Syntax Pass" },
        { "APOP name\r\n", "ERROR Syntax Apop" },
        { "AUTH PL/AIN\r\n", "ERROR Syntax Auth" },
        { "AUTH PLAIN not*base64\r\n", "ERROR Syntax Auth" },
        { "AUTH PLAIN AAAA BBBB\r\n", "ERROR Syntax Auth" },
        { "USER \xff\r\n", "ERROR InvalidEncoding User" },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Every_split_point_gives_the_same_result(string line, string expected)
    {
        var bytes = Latin1OrUtf8(line);
        foreach (var chunks in Splits(bytes))
        {
            Assert.Equal([expected], Run(chunks));
        }

        Assert.Equal([expected], Run([bytes], multiSegment: true));
    }

    [Fact]
    public void Pipelined_commands_are_read_one_at_a_time()
    {
        var input = Bytes("STAT\r\nLIST\r\nRETR 1\r\nQUIT\r\n");
        var expected = new[]
        {
            "STAT",
            "LIST -",
            "RETR 1",
            "QUIT",
        };
        foreach (var chunks in Splits(input))
        {
            Assert.Equal(expected, Run(chunks));
        }

        Assert.Equal(expected, Run([input], multiSegment: true));
    }

    [Fact]
    public void Reader_stops_at_the_end_of_the_command_so_STLS_can_see_pipelined_bytes()
    {
        var reader = new Pop3CommandReader(new Pop3ReaderLimits());
        var sequence = new ReadOnlySequence<byte>(Bytes("STLS\r\nUSER x\r\n"));
        var sr = new SequenceReader<byte>(sequence);
        var result = reader.TryReadCommand(ref sr);
        Assert.Equal(Pop3CommandKind.Stls, result.Command!.Kind);
        Assert.Equal(6, sr.Consumed);
        Assert.False(reader.HasPartialLine);
    }

    [Fact]
    public void Line_of_exactly_the_limit_is_accepted_and_one_more_octet_is_refused()
    {
        var limits = new Pop3ReaderLimits { LineLengthMargin = 0 };

        // 255 octets including CRLF: "USER " + 248 + CRLF.
        var atLimit = "USER " + new string('a', 248) + "\r\n";
        Assert.Equal(255, atLimit.Length);
        var over = "USER " + new string('a', 249) + "\r\n";
        foreach (var chunks in Splits(Bytes(atLimit)))
        {
            Assert.StartsWith("USER ", Assert.Single(Run(chunks, limits: limits)));
        }

        foreach (var chunks in Splits(Bytes(over)))
        {
            Assert.Equal(["ERROR LineTooLong -"], Run(chunks, limits: limits));
        }
    }

    [Fact]
    public void Margin_extends_the_limit()
    {
        var limits = new Pop3ReaderLimits { LineLengthMargin = 100 };
        var line = "USER " + new string('a', 348) + "\r\n";
        Assert.Equal(355, line.Length);
        Assert.StartsWith("USER ", Assert.Single(Run([Bytes(line)], limits: limits)));
        Assert.Equal(["ERROR LineTooLong -"], Run([Bytes("USER " + new string('a', 349) + "\r\n")], limits: limits));
    }

    [Fact]
    public void Reader_resynchronises_after_an_over_long_line()
    {
        var limits = new Pop3ReaderLimits { LineLengthMargin = 0 };
        var input = Bytes("NOOP " + new string('x', 1000) + "\r\nSTAT\r\n");
        foreach (var chunks in new[] { new[] { input }, input.Chunk(7).ToArray(), input.Chunk(300).ToArray() })
        {
            Assert.Equal(["ERROR LineTooLong -", "STAT"], Run(chunks, limits: limits));
        }
    }

    [Fact]
    public void A_flood_without_line_end_is_fatal_and_memory_stays_bounded()
    {
        var limits = new Pop3ReaderLimits { MaxDiscard = 10_000 };
        var flood = Enumerable.Repeat(Bytes(new string('x', 1000)), 20);
        Assert.Equal(["Fatal"], Run(flood, limits: limits));
    }

    [Fact]
    public void Sasl_lines_use_their_own_limit()
    {
        var reader = new Pop3CommandReader(new Pop3ReaderLimits { MaxSaslLineLength = 1000 });
        var ok = Bytes(new string('A', 1000) + "\r\n");
        var sequence = new ReadOnlySequence<byte>(ok);
        var sr = new SequenceReader<byte>(sequence);
        Assert.Equal(SaslLineStatus.Line, reader.TryReadSaslLine(ref sr));
        Assert.Equal(1000, reader.SaslLine.Length);

        var tooLong = new ReadOnlySequence<byte>(Bytes(new string('A', 1001) + "\r\n"));
        sr = new SequenceReader<byte>(tooLong);
        Assert.Equal(SaslLineStatus.TooLong, reader.TryReadSaslLine(ref sr));

        var cancel = new ReadOnlySequence<byte>(Bytes("*\r\n"));
        sr = new SequenceReader<byte>(cancel);
        Assert.Equal(SaslLineStatus.Line, reader.TryReadSaslLine(ref sr));
        Assert.True(reader.SaslLine.SequenceEqual("*"u8));
    }

    [Fact]
    public void Sasl_line_split_at_every_point()
    {
        var input = Bytes("dGVzdAB0ZXN0AHRlc3Q=\r\n");
        foreach (var chunks in Splits(input))
        {
            var reader = new Pop3CommandReader(new Pop3ReaderLimits());
            var lines = new List<string>();
            foreach (var chunk in chunks)
            {
                var sequence = new ReadOnlySequence<byte>(chunk);
                var sr = new SequenceReader<byte>(sequence);
                while (!sr.End)
                {
                    if (reader.TryReadSaslLine(ref sr) == SaslLineStatus.Line)
                    {
                        lines.Add(Encoding.ASCII.GetString(reader.SaslLine));
                    }
                }
            }

            Assert.Equal(["dGVzdAB0ZXN0AHRlc3Q="], lines);
        }
    }

    [Fact]
    public void Password_is_never_printed()
    {
        var result = Pop3CommandParser.Parse("PASS hunter2"u8);
        Assert.Equal("hunter2", ((PassCommand)result.Command!).Password);
        Assert.DoesNotContain("hunter2", result.Command!.ToString(), StringComparison.Ordinal);
        var auth = Pop3CommandParser.Parse("AUTH PLAIN AGFsaWNlAGh1bnRlcjI="u8);
        Assert.DoesNotContain("AGFsaWNl", auth.Command!.ToString(), StringComparison.Ordinal);
    }

    private static byte[] Latin1OrUtf8(string s) =>
        s.Contains('\xff', StringComparison.Ordinal) ? Encoding.Latin1.GetBytes(s) : Encoding.UTF8.GetBytes(s);
}