using System.Buffers;
using System.Text;

using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Tests.Protocol;

public class DataDecoderTests
{
    public static TheoryData<string, string, SmtpDataDefects> Cases => new()
    {
        { "Subject: x\r\n\r\nHello\r\n.\r\n", "Subject: x\r\n\r\nHello\r\n", SmtpDataDefects.None },
        { ".\r\n", "", SmtpDataDefects.None },
        { "..leading dot\r\n.\r\n", ".leading dot\r\n", SmtpDataDefects.None },
        { "a\r\n..\r\n...\r\n.x\r\n.\r\n", "a\r\n.\r\n..\r\nx\r\n", SmtpDataDefects.None },
        { "not.the end\r\n .\r\n.\r\n", "not.the end\r\n .\r\n", SmtpDataDefects.None },
        // SMTP smuggling: only CRLF.CRLF ends DATA.
        { "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", "a\n.\nMAIL FROM:<x@y>\r\n", SmtpDataDefects.BareLineFeed },
        { "a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", SmtpDataDefects.BareCarriageReturn },
        { "a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", SmtpDataDefects.BareCarriageReturn },
        { "a\r\n.\n.\r\n.\r\n", "a\r\n\n.\r\n", SmtpDataDefects.BareLineFeed },
        { "a\r\r\n.\r\n", "a\r\r\n", SmtpDataDefects.BareCarriageReturn },
        { "8bit: привет\r\n.\r\n", "8bit: привет\r\n", SmtpDataDefects.None },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decodes_identically_at_every_split_point(string wire, string content, SmtpDataDefects defects)
    {
        var bytes = Encoding.UTF8.GetBytes(wire + "NEXT");
        var expected = Encoding.UTF8.GetBytes(content);
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            Check(Sequences.Split(bytes, cut));

            // Incremental: the first part alone, then the rest.
            var decoder = new SmtpDataDecoder();
            var output = new ArrayBufferWriter<byte>();
            var first = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 0, cut));
            var status = decoder.Decode(ref first, output);
            var consumed = first.Consumed;
            if (status == SmtpDataStatus.NeedMoreData)
            {
                Assert.Equal(cut, consumed);
                var second = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, cut, bytes.Length - cut));
                Assert.Equal(SmtpDataStatus.Completed, decoder.Decode(ref second, output));
                consumed += second.Consumed;
            }

            Assert.Equal(bytes.Length - 4, consumed);
            Assert.Equal(expected, output.WrittenSpan.ToArray());
            Assert.Equal(defects, decoder.Defects);
        }

        Check(Sequences.Bytewise(bytes));

        void Check(ReadOnlySequence<byte> sequence)
        {
            var decoder = new SmtpDataDecoder();
            var output = new ArrayBufferWriter<byte>();
            var reader = new SequenceReader<byte>(sequence);
            Assert.Equal(SmtpDataStatus.Completed, decoder.Decode(ref reader, output));
            Assert.Equal(expected, output.WrittenSpan.ToArray());
            Assert.Equal(defects, decoder.Defects);
            Assert.Equal(expected.Length, decoder.DecodedLength);
            Assert.Equal("NEXT"u8.ToArray(), reader.UnreadSequence.ToArray());
        }
    }

    [Fact]
    public void Over_long_text_line_is_flagged_and_the_limit_is_configurable()
    {
        var decoder = new SmtpDataDecoder(maxTextLineLength: 10);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>("12345678\r\n123456789\r\n.\r\n"u8.ToArray()));
        Assert.Equal(SmtpDataStatus.Completed, decoder.Decode(ref reader, null));
        Assert.Equal(SmtpDataDefects.LineTooLong, decoder.Defects);

        var ok = new SmtpDataDecoder(maxTextLineLength: 10);
        var reader2 = new SequenceReader<byte>(new ReadOnlySequence<byte>("12345678\r\n.\r\n"u8.ToArray()));
        Assert.Equal(SmtpDataStatus.Completed, ok.Decode(ref reader2, null));
        Assert.Equal(SmtpDataDefects.None, ok.Defects);
        Assert.Equal(10, ok.DecodedLength);
    }

    [Fact]
    public void Without_marker_everything_is_consumed_and_more_is_needed()
    {
        var decoder = new SmtpDataDecoder();
        var output = new ArrayBufferWriter<byte>();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>("line\r\n.\r"u8.ToArray()));
        Assert.Equal(SmtpDataStatus.NeedMoreData, decoder.Decode(ref reader, output));
        Assert.True(reader.End);
        Assert.Equal("line\r\n"u8.ToArray(), output.WrittenSpan.ToArray());
    }
}