using System.Buffers;
using System.Text;

using Pochta.Imap.Protocol;

namespace Pochta.Imap.Tests;

public class WriterTests
{
    private static string Write(Action<ImapResponseWriter> action, bool utf8 = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        action(new ImapResponseWriter(buffer) { Utf8 = utf8 });
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData("INBOX", "INBOX")]
    [InlineData("", "\"\"")]
    [InlineData("NIL", "\"NIL\"")]
    [InlineData("nil", "\"nil\"")]
    [InlineData("a b", "\"a b\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData("back\\slash", "\"back\\\\slash\"")]
    [InlineData("line\r\nbreak", "{11}\r\nline\r\nbreak")]
    [InlineData("(paren)", "\"(paren)\"")]
    [InlineData("x]y", "x]y")]
    [InlineData("50%", "\"50%\"")]
    [InlineData("größe", "{7}\r\ngröße")]
    public void AString_chooses_encoding_by_content(string value, string expected) =>
        Assert.Equal(expected, Write(w => w.AString(value)));

    [Fact]
    public void Utf8_goes_in_quoted_strings_when_enabled() =>
        Assert.Equal("\"größe\"", Write(w => w.AString("größe"), utf8: true));

    [Fact]
    public void NString_is_nil_or_string()
    {
        Assert.Equal("NIL", Write(w => w.NString(null)));
        Assert.Equal("\"atom\"", Write(w => w.NString("atom")));
    }

    [Fact]
    public void Long_strings_become_literals()
    {
        var value = new string('a', ImapResponseWriter.MaxQuotedLength + 1);
        Assert.Equal("{1025}\r\n" + value, Write(w => w.QuotedOrLiteral(value)));
    }

    [Fact]
    public void Tagged_and_untagged_status_lines()
    {
        Assert.Equal("a1 OK [READ-WRITE] SELECT completed\r\n", Write(w => w.Tagged("a1", ImapStatus.Ok, "READ-WRITE", "SELECT completed")));
        Assert.Equal("* BYE Autologout\r\n", Write(w => w.UntaggedStatus(ImapStatus.Bye, null, "Autologout")));
        Assert.Equal("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", Write(w => w.UntaggedStatus(ImapStatus.Ok, "UIDVALIDITY 3857529045", "UIDs valid")));
        Assert.Equal("+ Ready\r\n", Write(w => w.Continuation("Ready")));
        Assert.Equal("+ \r\n", Write(w => w.ContinuationBase64([])));
        Assert.Equal("+ AQI=\r\n", Write(w => w.ContinuationBase64([1, 2])));
    }

    [Fact]
    public void Mailbox_names_use_modified_utf7_unless_utf8()
    {
        Assert.Equal("&ZeVnLIqe-", Write(w => w.Mailbox("日本語")));
        Assert.Equal("\"&AKM-1 & more\"", Write(w => w.Mailbox("£1 & more")).Replace("&-", "&", StringComparison.Ordinal));
        Assert.Equal("\"日本語\"", Write(w => w.Mailbox("日本語"), utf8: true));
    }

    [Fact]
    public void Numbers_and_literal_headers()
    {
        Assert.Equal("* 23 EXISTS\r\n", Write(w =>
        {
            w.Untagged().Number(23UL).Space().Ascii("EXISTS");
            w.EndLine();
        }));
        Assert.Equal("{4294967296}\r\n", Write(w => w.LiteralHeader(4294967296)));
    }
}

public class ModifiedUtf7Tests
{
    [Theory]
    [InlineData("INBOX", "INBOX")]
    [InlineData("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-")]
    [InlineData("A&B", "A&-B")]
    [InlineData("Entwürfe", "Entw&APw-rfe")]
    [InlineData("😀", "&2D3eAA-")]
    public void Round_trips(string name, string encoded)
    {
        Assert.Equal(encoded, ModifiedUtf7.Encode(name));
        Assert.True(ModifiedUtf7.TryDecode(Encoding.ASCII.GetBytes(encoded), out var decoded));
        Assert.Equal(name, decoded);
    }

    [Theory]
    [InlineData("&Jjo!")]
    [InlineData("&U,BTFw")]
    [InlineData("&AGE-")]
    [InlineData("&U/BTFw-")]
    public void Rejects_invalid(string encoded) => Assert.False(ModifiedUtf7.TryDecode(Encoding.ASCII.GetBytes(encoded), out _));
}

public class SequenceSetTests
{
    [Theory]
    [InlineData("1", true)]
    [InlineData("1:*", true)]
    [InlineData("4:2,7,9:*", true)]
    [InlineData("$", true)]
    [InlineData("0", false)]
    [InlineData("1:", false)]
    [InlineData(",1", false)]
    [InlineData("1,,2", false)]
    [InlineData("4294967296", false)]
    [InlineData("01", false)]
    public void Parses(string text, bool valid) => Assert.Equal(valid, SequenceSet.TryParse(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void Contains_resolves_star_and_reversed_ranges()
    {
        Assert.True(SequenceSet.TryParse("5:3,9:*"u8, out var set));
        Assert.True(set!.Contains(4, 10));
        Assert.False(set.Contains(6, 10));
        Assert.True(set.Contains(10, 10));
        Assert.True(set.Contains(9, 20));
    }

    [Fact]
    public void Formats_compactly() => Assert.Equal("1:3,5,7:8", SequenceSet.Format([1, 2, 3, 5, 7, 8]));
}