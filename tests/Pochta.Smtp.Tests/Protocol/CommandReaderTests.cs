using System.Buffers;
using System.Text;

using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Tests.Protocol;

public class CommandReaderTests
{
    public static TheoryData<string> ValidLines => new()
    {
        "EHLO client.example.org\r\n",
        "helo [192.0.2.1]\r\n",
        "EHLO WIN_PC-01\r\n",
        "MAIL FROM:<alice@example.org>\r\n",
        "MAIL FROM:<>\r\n",
        "mail from:<alice@example.org> SIZE=1000 BODY=8BITMIME\r\n",
        "MAIL FROM:<\"john doe\"@example.org>\r\n",
        "MAIL FROM:<@relay.example,@b.example:bob@example.org>\r\n",
        "MAIL FROM:<bob@[192.0.2.7]>\r\n",
        "MAIL FROM:<bob@[IPv6:2001:db8::1]>\r\n",
        "MAIL FROM:<пользователь@пример.рф> SMTPUTF8\r\n",
        "MAIL FROM:<a@b.example> RET=HDRS ENVID=QQ+2B314 AUTH=<>\r\n",
        "MAIL FROM: <lenient@example.org>\r\n",
        "RCPT TO:<bob@example.org>\r\n",
        "RCPT TO:<Postmaster>\r\n",
        "RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Btag@example.org\r\n",
        "RCPT TO:<bob@example.org> NOTIFY=NEVER\r\n",
        "DATA\r\n",
        "BDAT 1000\r\n",
        "BDAT 0 LAST\r\n",
        "RSET\r\n",
        "NOOP\r\n",
        "NOOP anything at all\r\n",
        "QUIT\r\n",
        "VRFY bob\r\n",
        "HELP\r\n",
        "STARTTLS\r\n",
        "AUTH PLAIN\r\n",
        "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n",
        "AUTH LOGIN =\r\n",
        "AUTH SCRAM-SHA-256 biwsbj1ib2Iscj1ub25jZQ==\r\n",
    };

    [Theory]
    [MemberData(nameof(ValidLines))]
    public void Valid_line_parses_identically_at_every_split_point(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        var expected = ReadOne(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(SmtpReadStatus.Command, expected.Status);

        for (var cut = 1; cut < bytes.Length; cut++)
        {
            var split = ReadOne(Sequences.Split(bytes, cut));
            Assert.Equal(expected, split);

            // Incremental: a prefix alone needs more data and consumes nothing.
            var reader = new SmtpCommandReader();
            var prefix = new ReadOnlySequence<byte>(bytes, 0, cut);
            var r = new SequenceReader<byte>(prefix);
            Assert.Equal(SmtpReadStatus.NeedMoreData, reader.TryRead(ref r).Status);
            Assert.Equal(0, r.Consumed);
            var full = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            Assert.Equal(expected, reader.TryRead(ref full));
        }

        Assert.Equal(expected, ReadOne(Sequences.Bytewise(bytes)));
    }

    private static SmtpReadResult ReadOne(ReadOnlySequence<byte> sequence)
    {
        var reader = new SequenceReader<byte>(sequence);
        var result = new SmtpCommandReader().TryRead(ref reader);
        Assert.True(reader.End);
        return result;
    }

    private static SmtpReadResult Parse(string line) => ReadOne(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)));

    [Fact]
    public void Mail_parameters_are_typed()
    {
        var mail = Assert.IsType<SmtpMailCommand>(Parse("MAIL FROM:<a@B.Example> SIZE=1000 BODY=BINARYMIME RET=FULL ENVID=QQ+2B314 AUTH=bob+2B1@example.org\r\n").Command);
        Assert.Equal("a@b.example", mail.Sender!.ToString());
        Assert.Equal(1000, mail.Size);
        Assert.Equal(SmtpBodyType.BinaryMime, mail.Body);
        Assert.Equal(DsnReturn.Full, mail.Return);
        Assert.Equal("QQ+314", mail.EnvelopeId);
        Assert.Equal("bob+1@example.org", mail.AuthSender);
        Assert.True(mail.HasParameters);
        Assert.False(mail.SmtpUtf8);
    }

    [Fact]
    public void Null_path_and_source_route_and_quoted_local_part()
    {
        Assert.Null(Assert.IsType<SmtpMailCommand>(Parse("MAIL FROM:<>\r\n").Command).Sender);
        Assert.Equal("bob@example.org", Assert.IsType<SmtpMailCommand>(Parse("MAIL FROM:<@a.example,@b.example:bob@example.org>\r\n").Command).Sender!.ToString());
        Assert.Equal("\"john doe\"@example.org", Assert.IsType<SmtpMailCommand>(Parse("MAIL FROM:<\"john doe\"@example.org>\r\n").Command).Sender!.ToString());
        Assert.Equal("bob@[192.0.2.7]", Assert.IsType<SmtpMailCommand>(Parse("MAIL FROM:<bob@[192.0.2.7]>\r\n").Command).Sender!.ToString());
    }

    [Fact]
    public void Rcpt_dsn_parameters_and_postmaster()
    {
        var rcpt = Assert.IsType<SmtpRcptCommand>(Parse("RCPT TO:<bob@example.org> NOTIFY=failure,delay ORCPT=rfc822;bob+2Btag@example.org\r\n").Command);
        Assert.Equal(DsnNotify.Failure | DsnNotify.Delay, rcpt.Notify);
        Assert.Equal("FAILURE,DELAY", rcpt.NotifyText);
        Assert.Equal("rfc822;bob+2Btag@example.org", rcpt.OriginalRecipient);
        Assert.True(Assert.IsType<SmtpRcptCommand>(Parse("RCPT TO:<postmaster>\r\n").Command).IsPostmaster);
        Assert.False(Assert.IsType<SmtpRcptCommand>(Parse("RCPT TO:<postmaster@example.org>\r\n").Command).IsPostmaster);
    }

    [Fact]
    public void Utf8_path_needs_smtputf8()
    {
        Assert.Equal(SmtpSyntaxError.Utf8NotAllowed, Parse("MAIL FROM:<пользователь@пример.рф>\r\n").Error);
        Assert.True(Assert.IsType<SmtpRcptCommand>(Parse("RCPT TO:<иван@пример.рф>\r\n").Command).PathIsUtf8);
        byte[] invalid = [.. "MAIL FROM:<a"u8, 0xff, .. "@b.example> SMTPUTF8\r\n"u8];
        Assert.Equal(SmtpSyntaxError.BadSenderAddress, ReadOne(new ReadOnlySequence<byte>(invalid)).Error);
    }

    [Theory]
    [InlineData("FOO bar\r\n", SmtpSyntaxError.UnknownCommand)]
    [InlineData("EHLO\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("EHLO bad(name)\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("MAIL TO:<a@b.example>\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("MAIL FROM:a@b.example\r\n", SmtpSyntaxError.BadSenderAddress)]
    [InlineData("MAIL FROM:<a@>\r\n", SmtpSyntaxError.BadSenderAddress)]
    [InlineData("MAIL FROM:<a..b@c.example>\r\n", SmtpSyntaxError.BadSenderAddress)]
    [InlineData("MAIL FROM:<a@[300.1.1.1]>\r\n", SmtpSyntaxError.BadSenderAddress)]
    [InlineData("RCPT TO:<>\r\n", SmtpSyntaxError.BadRecipientAddress)]
    [InlineData("RCPT TO:<a b@c.example>\r\n", SmtpSyntaxError.BadRecipientAddress)]
    [InlineData("MAIL FROM:<a@b.example> FOO=1\r\n", SmtpSyntaxError.UnknownParameter)]
    [InlineData("MAIL FROM:<a@b.example> SIZE=abc\r\n", SmtpSyntaxError.BadParameterValue)]
    [InlineData("MAIL FROM:<a@b.example> SIZE=1 SIZE=2\r\n", SmtpSyntaxError.BadParameterValue)]
    [InlineData("MAIL FROM:<a@b.example> BODY=9BIT\r\n", SmtpSyntaxError.BadParameterValue)]
    [InlineData("MAIL FROM:<a@b.example> SMTPUTF8=yes\r\n", SmtpSyntaxError.BadParameterValue)]
    [InlineData("MAIL FROM:<a@b.example> ENVID=a+zz\r\n", SmtpSyntaxError.BadParameterValue)]
    [InlineData("MAIL FROM:<a@b.example>SIZE=1\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS\r\n", SmtpSyntaxError.BadParameterValue)]
    [InlineData("RCPT TO:<a@b.example> NOTIFY=SUCCESS,\r\n", SmtpSyntaxError.BadParameterValue)]
    [InlineData("RCPT TO:<a@b.example> ORCPT=bob@example.org\r\n", SmtpSyntaxError.BadParameterValue)]
    [InlineData("RCPT TO:<a@b.example> SIZE=1\r\n", SmtpSyntaxError.UnknownParameter)]
    [InlineData("DATA now\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("VRFY\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("BDAT\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("BDAT 12 FIRST\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("BDAT -1\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("AUTH PL@IN\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("AUTH PLAIN not*base64\r\n", SmtpSyntaxError.BadArguments)]
    [InlineData("NOOP\n", SmtpSyntaxError.BadLineEnding)]
    [InlineData("NOOP\rX\r\n", SmtpSyntaxError.BadLineEnding)]
    public void Invalid_lines_are_reported(string line, SmtpSyntaxError error)
    {
        var result = Parse(line);
        Assert.Equal(SmtpReadStatus.Error, result.Status);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void Command_line_limits()
    {
        Assert.Equal(SmtpSyntaxError.LineTooLong, Parse("NOOP " + new string('x', 506) + "\r\n").Error);
        Assert.Equal(SmtpReadStatus.Command, Parse("NOOP " + new string('x', 505) + "\r\n").Status);

        // Parameters allow the extended limit; a long line without parameters does not.
        var auth = "AUTH=" + XText.Encode("<" + new string('u', 64) + "@" + new string('d', 60) + "." + new string('e', 60) + "." + new string('f', 60) + ".example>");
        var longMail = "MAIL FROM:<" + new string('a', 64) + "@" + new string('b', 60) + "." + new string('c', 60) + "." + new string('d', 60) + ".example> ENVID=" + new string('e', 100) + " RET=FULL SIZE=100 BODY=8BITMIME " + auth + "\r\n";
        Assert.InRange(longMail.Length, 513, 2048);
        Assert.Equal(SmtpReadStatus.Command, Parse(longMail).Status);
        Assert.Equal(SmtpSyntaxError.LineTooLong, Parse("MAIL FROM:<a@b.example> ENVID=" + new string('e', 100) + new string(' ', 2000) + "\r\n").Error);
        var limits = new SmtpParserLimits { MaxCommandLineLength = 64, MaxParameterLineLength = 128, MaxAuthLineLength = 200 };
        Assert.Equal(SmtpReadStatus.Command, SmtpCommandReader.ParseLine(Encoding.ASCII.GetBytes("MAIL FROM:<" + new string('a', 50) + "@b.example> SIZE=10\r"), limits).Status);
        Assert.Equal(SmtpSyntaxError.LineTooLong, SmtpCommandReader.ParseLine(Encoding.ASCII.GetBytes("MAIL FROM:<" + new string('a', 52) + "@b.example>\r"), limits).Error);
        Assert.Equal(SmtpReadStatus.Command, SmtpCommandReader.ParseLine(Encoding.ASCII.GetBytes("AUTH PLAIN " + new string('A', 180) + "\r"), limits).Status);
        Assert.Equal(SmtpSyntaxError.LineTooLong, SmtpCommandReader.ParseLine(Encoding.ASCII.GetBytes("NOOP " + new string('A', 70) + "\r"), limits).Error);
    }

    [Fact]
    public void Endless_line_is_discarded_in_bounded_memory_then_reported_once()
    {
        var reader = new SmtpCommandReader();
        var chunk = Encoding.ASCII.GetBytes(new string('x', 8000));
        var pending = Array.Empty<byte>();
        var maxBuffered = 0;
        for (var i = 0; i < 10; i++)
        {
            // The caller keeps what was not consumed and appends what arrives.
            var buffer = pending.Concat(chunk).ToArray();
            maxBuffered = Math.Max(maxBuffered, buffer.Length);
            var r = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer));
            Assert.Equal(SmtpReadStatus.NeedMoreData, reader.TryRead(ref r).Status);
            pending = r.UnreadSequence.ToArray();
        }

        Assert.True(maxBuffered < SmtpParserLimits.Default.MaxBufferedLine + chunk.Length);
        Assert.Empty(pending);

        var tail = new SequenceReader<byte>(new ReadOnlySequence<byte>("xx\r\nNOOP\r\n"u8.ToArray()));
        Assert.Equal(SmtpSyntaxError.LineTooLong, reader.TryRead(ref tail).Error);
        Assert.Equal(SmtpCommandKind.Noop, reader.TryRead(ref tail).Command!.Kind);
    }

    [Fact]
    public void Pipelined_commands_come_out_one_by_one_from_any_split()
    {
        var bytes = "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"u8.ToArray();
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var sequence = Sequences.Split(bytes, cut, cut + 7);
            var reader = new SequenceReader<byte>(sequence);
            var parser = new SmtpCommandReader();
            Assert.Equal(SmtpCommandKind.Mail, parser.TryRead(ref reader).Command!.Kind);
            Assert.Equal(SmtpCommandKind.Rcpt, parser.TryRead(ref reader).Command!.Kind);
            Assert.Equal(SmtpCommandKind.Data, parser.TryRead(ref reader).Command!.Kind);
            Assert.Equal(SmtpReadStatus.NeedMoreData, parser.TryRead(ref reader).Status);
        }
    }

    [Fact]
    public void XText_round_trip_and_rejects()
    {
        Assert.True(XText.TryDecode("a+2Bb+3Dc"u8, out var s));
        Assert.Equal("a+b=c", s);
        Assert.Equal("a+2Bb+3Dc", XText.Encode("a+b=c"));
        Assert.False(XText.TryDecode("a+2"u8, out _));
        Assert.False(XText.TryDecode("a=b"u8, out _));
        Assert.False(XText.TryDecode("a+2b"u8, out _));
    }
}