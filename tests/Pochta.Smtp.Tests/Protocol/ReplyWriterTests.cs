using System.Buffers;

using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Tests.Protocol;

public class ReplyWriterTests
{
    [Fact]
    public void Single_line_with_enhanced_code()
    {
        Assert.Equal("250 2.1.0 Sender OK\r\n", new SmtpReply(250, "2.1.0", "Sender OK").ToString());
    }

    [Fact]
    public void Multi_line_uses_dash_continuation_and_code_on_every_line()
    {
        var reply = new SmtpReply(214, "2.0.0", ["first", "second", "last"]);
        Assert.Equal("214-2.0.0 first\r\n214-2.0.0 second\r\n214 2.0.0 last\r\n", reply.ToString());
    }

    [Fact]
    public void Without_enhanced_code()
    {
        var buffer = new ArrayBufferWriter<byte>();
        SmtpReplyWriter.Write(buffer, new SmtpReply(250, null, ["mx.example.org", "PIPELINING"]));
        Assert.Equal("250-mx.example.org\r\n250 PIPELINING\r\n"u8.ToArray(), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Refuses_line_breaks_and_bad_codes()
    {
        Assert.Throws<ArgumentException>(() => new SmtpReply(250, null, "a\r\nb").ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SmtpReply(199, null, "x").ToString());
        Assert.Throws<ArgumentException>(() => new SmtpReply(250, null, new string('x', 600)).ToString());
    }
}