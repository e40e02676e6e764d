using System.Buffers;
using System.Text;

using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Tests.Protocol;

public class WriterTests
{
    [Fact]
    public void Status_lines_and_response_codes_are_exact()
    {
        Assert.Equal("+OK\r\n", Write(w => Pop3ResponseWriter.Ok(w, ""u8)));
        Assert.Equal("+OK Hello\r\n", Write(w => Pop3ResponseWriter.Ok(w, "Hello"u8)));
        Assert.Equal("+OK caf\u00e9\r\n", Write(w => Pop3ResponseWriter.Ok(w, "caf\u00e9")));
        Assert.Equal("-ERR No such message\r\n", Write(w => Pop3ResponseWriter.Err(w, "No such message"u8)));
        Assert.Equal("-ERR [IN-USE] Locked\r\n", Write(w => Pop3ResponseWriter.Err(w, Pop3ResponseCode.InUse, "Locked"u8)));
        Assert.Equal("-ERR [LOGIN-DELAY] x\r\n", Write(w => Pop3ResponseWriter.Err(w, Pop3ResponseCode.LoginDelay, "x"u8)));
        Assert.Equal("-ERR [SYS/TEMP] x\r\n", Write(w => Pop3ResponseWriter.Err(w, Pop3ResponseCode.SysTemp, "x"u8)));
        Assert.Equal("-ERR [SYS/PERM] x\r\n", Write(w => Pop3ResponseWriter.Err(w, Pop3ResponseCode.SysPerm, "x"u8)));
        Assert.Equal("-ERR [AUTH] x\r\n", Write(w => Pop3ResponseWriter.Err(w, Pop3ResponseCode.Auth, "x"u8)));
        Assert.Equal("-ERR [UTF8] x\r\n", Write(w => Pop3ResponseWriter.Err(w, Pop3ResponseCode.Utf8, "x"u8)));
    }

    [Fact]
    public void Listings_and_summaries_are_exact()
    {
        Assert.Equal("+OK 2 320\r\n", Write(w => Pop3ResponseWriter.Stat(w, 2, 320)));
        Assert.Equal("+OK 0 0\r\n", Write(w => Pop3ResponseWriter.Stat(w, 0, 0)));
        Assert.Equal("+OK 1 120\r\n", Write(w => Pop3ResponseWriter.ScanListing(w, 1, 120, ok: true)));
        Assert.Equal("2 200\r\n", Write(w => Pop3ResponseWriter.ScanListing(w, 2, 200, ok: false)));
        Assert.Equal("+OK 1 abc\r\n", Write(w => Pop3ResponseWriter.UniqueIdListing(w, 1, "abc"u8, ok: true)));
        Assert.Equal("3 xyz\r\n", Write(w => Pop3ResponseWriter.UniqueIdListing(w, 3, "xyz"u8, ok: false)));
        Assert.Equal("+OK Maildrop has 1 message (5 octets)\r\n", Write(w => Pop3ResponseWriter.MaildropSummary(w, 1, 5)));
        Assert.Equal("+OK Maildrop has 3 messages (9000000000 octets)\r\n", Write(w => Pop3ResponseWriter.MaildropSummary(w, 3, 9_000_000_000)));
        Assert.Equal("EXPIRE 30\r\n", Write(w => Pop3ResponseWriter.Line(w, "EXPIRE"u8, 30)));
        Assert.Equal(".\r\n", Write(Pop3ResponseWriter.EndMultiline));
    }

    [Fact]
    public void Continuations_are_base64()
    {
        Assert.Equal("+ \r\n", Write(w => Pop3ResponseWriter.Continuation(w, ""u8)));
        Assert.Equal("+ VXNlcm5hbWU6\r\n", Write(w => Pop3ResponseWriter.Continuation(w, "Username:"u8)));
    }

    public static TheoryData<string, string> Retr => new()
    {
        { "Subject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n.\r\n" },
        { ".leading dot\r\n..two\r\n.\r\n", "..leading dot\r\n...two\r\n..\r\n.\r\n" },
        { "a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n" },
        { "no final newline", "no final newline\r\n.\r\n" },
        { "ends with CR\r", "ends with CR\r\n.\r\n" },
        { "bare\nLF\n.x\n", "bare\r\nLF\r\n..x\r\n.\r\n" },
        { "mid.dot\r\n", "mid.dot\r\n.\r\n" },
        { "a\rb\r\n", "a\rb\r\n.\r\n" },
        { "", ".\r\n" },
        { "\r\n", "\r\n.\r\n" },
        { "\n.x", "\r\n..x\r\n.\r\n" },
        { ".\n.\n", "..\r\n..\r\n.\r\n" },
        { "a\n\n.\r\n.", "a\r\n\r\n..\r\n..\r\n.\r\n" },
        { "a\r\r\nb\r.c\r\n", "a\r\r\nb\r.c\r\n.\r\n" },
        { "x\r\n..\r\n...\n", "x\r\n...\r\n....\r\n.\r\n" },
        { "\r", "\r\n.\r\n" },
        { ".", "..\r\n.\r\n" },
    };

    [Theory]
    [MemberData(nameof(Retr))]
    public void Retr_body_is_stuffed_and_terminated_at_every_chunking(string message, string expected)
    {
        foreach (var chunks in ReaderHarness.Splits(Encoding.ASCII.GetBytes(message)))
        {
            Assert.Equal(expected, Encode(chunks, null));
        }
    }

    public static TheoryData<string, int, string> Top => new()
    {
        { "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n", 0, "A: 1\r\nB: 2\r\n\r\n.\r\n" },
        { "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n", 2, "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n.\r\n" },
        { "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n", 10, "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n.\r\n" },
        { "A: 1\r\n\r\n.dot\r\n\r\nx\r\n", 2, "A: 1\r\n\r\n..dot\r\n\r\n.\r\n" },
        { "A: 1\r\n\r\nlast line without end", 5, "A: 1\r\n\r\nlast line without end\r\n.\r\n" },
        { "No: body\r\n", 3, "No: body\r\n.\r\n" },
        { "\r\nbody starts at once\r\nx\r\n", 1, "\r\nbody starts at once\r\n.\r\n" },
        { "A: 1\n\nbody\nmore\n", 1, "A: 1\r\n\r\nbody\r\n.\r\n" },
    };

    [Theory]
    [MemberData(nameof(Top))]
    public void Top_stops_after_header_and_n_lines_at_every_chunking(string message, int lines, string expected)
    {
        foreach (var chunks in ReaderHarness.Splits(Encoding.ASCII.GetBytes(message)))
        {
            Assert.Equal(expected, Encode(chunks, lines));
        }
    }

    [Fact]
    public void Top_reports_completion_so_the_caller_stops_reading()
    {
        var encoder = new Pop3MultilineEncoder(1);
        var output = new ArrayBufferWriter<byte>();
        encoder.Write("A: 1\r\n\r\nx\r\n"u8, output);
        Assert.True(encoder.IsComplete);
        encoder.Write("ignored\r\n"u8, output);
        encoder.Complete(output);
        Assert.Equal("A: 1\r\n\r\nx\r\n.\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Large_message_streams_in_chunks_with_the_same_bytes()
    {
        var builder = new StringBuilder("Subject: big\r\n\r\n");
        for (var i = 0; i < 5000; i++)
        {
            builder.Append(i % 7 == 0 ? ".line " : "line ").Append(i).Append("\r\n");
        }

        var message = Encoding.ASCII.GetBytes(builder.ToString());
        var expected = builder.ToString().Replace("\n.", "\n..", StringComparison.Ordinal) + ".\r\n";
        foreach (var size in new[] { 1, 3, 4096, 65536 })
        {
            Assert.Equal(expected, Encode(message.Chunk(size), null));
        }
    }

    [Fact]
    public void Random_messages_match_a_line_by_line_reference_at_random_chunkings()
    {
        var random = new Random(5);
        byte[] alphabet = "ab.\r\n"u8.ToArray();
        for (var round = 0; round < 300; round++)
        {
            var message = new byte[random.Next(0, 300)];
            for (var i = 0; i < message.Length; i++)
            {
                message[i] = alphabet[random.Next(alphabet.Length)];
            }

            var chunks = new List<byte[]>();
            for (var at = 0; at < message.Length;)
            {
                var n = Math.Min(random.Next(1, 40), message.Length - at);
                chunks.Add(message[at..(at + n)]);
                at += n;
            }

            Assert.Equal(Reference(message), Encode(chunks, null));
        }

        // RFC 1939 §3, one line at a time: lines end at LF (a CR before it belongs to the line
        // end), each goes out with CRLF, a leading "." is doubled.
        static string Reference(byte[] message)
        {
            var text = Encoding.ASCII.GetString(message);
            var result = new StringBuilder();
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                var last = i == lines.Length - 1;
                if (last && line.Length == 0)
                {
                    break;
                }

                // A final CR without LF is completed to CRLF as well.
                if (line.EndsWith('\r'))
                {
                    line = line[..^1];
                }

                result.Append(line.StartsWith('.') ? "." + line : line).Append("\r\n");
            }

            return result.Append(".\r\n").ToString();
        }
    }

    private static string Encode(IEnumerable<byte[]> chunks, int? top)
    {
        var encoder = new Pop3MultilineEncoder(top);
        var output = new ArrayBufferWriter<byte>();
        foreach (var chunk in chunks)
        {
            if (encoder.IsComplete)
            {
                break;
            }

            encoder.Write(chunk, output);
        }

        encoder.Complete(output);
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }

    private static string Write(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}