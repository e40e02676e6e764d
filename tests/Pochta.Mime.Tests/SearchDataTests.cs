using System.Buffers;
using System.Text;

using static Pochta.Mime.Tests.TestUtil;

namespace Pochta.Mime.Tests;

public class SearchDataTests
{
    [Fact]
    public async Task Body_text_prefers_plain_alternative_and_decodes_transfer_encoding()
    {
        var (index, _) = await IndexAsync(Corpus.Alternative);
        Assert.Equal("Café au lait\nis nice.", index.Search.BodyText);
        Assert.Equal("Café au lait is nice.", index.Search.Preview);
        Assert.Equal("alt", index.Search.BaseSubject);
        Assert.Equal(index.Envelope.ParsedDate, index.Search.SentDate);
        Assert.False(index.Search.HasAttachment);
    }

    [Fact]
    public async Task Html_only_is_stripped_to_text()
    {
        const string Msg = """
            Subject: html
            Content-Type: text/html; charset=iso-8859-1
            Content-Transfer-Encoding: quoted-printable

            <html><head><title>T</title><script>var x = "<p>no</p>";</script></head>
            <body><p>Caf=E9 &amp; cr&egrave;me</p><div>second&nbsp;block</div></body></html>
            """;
        var (index, _) = await IndexAsync(Msg);
        var text = index.Search.BodyText;
        Assert.Contains("Café & crème", text, StringComparison.Ordinal);
        Assert.Contains("second\u00a0block", text, StringComparison.Ordinal);
        Assert.DoesNotContain("var x", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<p>", text, StringComparison.Ordinal);
        Assert.StartsWith("Café & crème", index.Search.Preview, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attachments_are_not_searched_as_text_and_text_is_capped()
    {
        var big = new string('x', MessageIndexer.MaxBodyTextChars + 5000);
        var msg = "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n" + big +
            "\r\n--B\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nsecret attachment words\r\n--B--\r\n";
        var index = await IndexAsync(Encoding.ASCII.GetBytes(msg));
        Assert.Equal(MessageIndexer.MaxBodyTextChars, index.Search.BodyText.Length);
        Assert.DoesNotContain("secret", index.Search.BodyText, StringComparison.Ordinal);
        Assert.Equal(MessageIndexer.MaxPreviewChars, index.Search.Preview.Length);
        Assert.True(index.Search.HasAttachment);
    }

    [Fact]
    public async Task Large_base64_text_part_is_read_incrementally()
    {
        var text = string.Concat(Enumerable.Repeat("Grüße aus Köln. ", 200_000));
        var b64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(text), Base64FormattingOptions.InsertLineBreaks);
        var msg = "Subject: big\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64 + "\r\n";
        var index = await IndexAsync(Encoding.ASCII.GetBytes(msg));
        Assert.Equal(MessageIndexer.MaxBodyTextChars, index.Search.BodyText.Length);
        Assert.StartsWith("Grüße aus Köln. Grüße", index.Search.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Header_fields_in_order_decoded()
    {
        var (index, _) = await IndexAsync(Corpus.SimpleText);
        Assert.Equal(
            ["Return-Path", "Date", "From", "Subject", "To", "Message-Id", "MIME-Version", "Content-Type"],
            index.Search.Headers.Select(h => h.Name));
        Assert.Equal("TEXT/PLAIN; CHARSET=US-ASCII", index.Search.Headers[^1].Value);

        var (encoded, _) = await IndexAsync(Corpus.EncodedWords);
        Assert.Equal("If you can read this you understand the example.", encoded.Search.Headers.Single(h => h.Name == "Subject").Value);
    }

    [Theory]
    [InlineData(new[] { "subject", "FROM" }, false, "From: Fred Foobar <foobar@Blurdybloop.example>\r\nSubject: afternoon meeting\r\n\r\n")]
    [InlineData(new[] { "X-Absent" }, false, "\r\n")]
    [InlineData(new[] { "Return-Path", "Date", "From", "To", "Message-Id", "MIME-Version", "Content-Type" }, true, "Subject: afternoon meeting\r\n\r\n")]
    public async Task Header_fields_filter(string[] names, bool exclude, string expected)
    {
        var (index, raw) = await IndexAsync(Corpus.SimpleText);
        Assert.True(PartLocator.TryLocate(index, [], PartSpecifier.Header, out var range));
        var output = new ArrayBufferWriter<byte>();
        HeaderFieldFilter.Filter(raw.AsSpan((int)range.Offset, (int)range.Length), names, exclude, output);
        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Header_fields_filter_keeps_folded_lines()
    {
        var header = "Subject: one\r\n two\r\nX-A: 1\r\nsubject: again\r\n\r\n"u8;
        var output = new ArrayBufferWriter<byte>();
        HeaderFieldFilter.Filter(header, ["Subject"], exclude: false, output);
        Assert.Equal("Subject: one\r\n two\r\nsubject: again\r\n\r\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Preview_is_bounded_and_surrogate_safe()
    {
        var text = new string('a', 199) + "😀tail";
        var preview = TextExtractor.MakePreview(text);
        Assert.Equal(199, preview.Length);
        Assert.Equal("a b c", TextExtractor.MakePreview("  a \r\n\t b   c  "));
    }

    [Fact]
    public async Task Byte_range_stream_reads_only_its_window()
    {
        var raw = "0123456789"u8.ToArray();
        await using var window = new ByteRangeStream(new MemoryStream(raw), new ByteRange(3, 4));
        var buffer = new byte[10];
        var n = await window.ReadAsync(buffer);
        Assert.Equal(4, n);
        Assert.Equal("3456", Encoding.ASCII.GetString(buffer, 0, n));
        Assert.Equal(0, await window.ReadAsync(buffer));
        window.Position = 2;
        Assert.Equal(2, window.Read(buffer, 0, 10));
        Assert.Equal("56", Encoding.ASCII.GetString(buffer, 0, 2));
    }

    [Fact]
    public async Task Quoted_printable_binary_decoding()
    {
        var encoded = Encoding.ASCII.GetBytes("Caf=C3=A9 au =\r\nlait=0D=0A");
        using var decoded = TransferDecoding.OpenDecoded(new MemoryStream(encoded), "quoted-printable");
        using var copy = new MemoryStream();
        await decoded.CopyToAsync(copy);
        Assert.Equal("Café au lait\r\n", Encoding.UTF8.GetString(copy.ToArray()));
        Assert.Equal(15, await TransferDecoding.GetDecodedSizeAsync(new MemoryStream(encoded), "Quoted-Printable", CancellationToken.None));
        Assert.Equal(encoded.Length, await TransferDecoding.GetDecodedSizeAsync(new MemoryStream(encoded), "7bit", CancellationToken.None));
    }
}