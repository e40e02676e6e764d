using static Pochta.Mime.Tests.TestUtil;

namespace Pochta.Mime.Tests;

public class StructureTests
{
    [Fact]
    public async Task Simple_text_message_ranges_and_fields()
    {
        var (index, raw) = await IndexAsync(Corpus.SimpleText);
        Assert.Equal(raw.Length, index.Size);
        var body = index.Body;
        Assert.Equal(BodyPartKind.Basic, body.Kind);
        Assert.Equal("TEXT", body.MediaType);
        Assert.Equal("PLAIN", body.MediaSubtype);
        Assert.Equal([new BodyParameter("CHARSET", "US-ASCII")], body.Parameters);
        Assert.Equal(55, body.BodySize);
        Assert.Equal(1, body.Lines);

        var header = Range(raw, index, "", PartSpecifier.Header);
        Assert.StartsWith("Return-Path: <alice@example.test>\r\n", header, StringComparison.Ordinal);
        Assert.EndsWith("CHARSET=US-ASCII\r\n\r\n", header, StringComparison.Ordinal);
        const string Text = "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
        Assert.Equal(Text, Range(raw, index, "", PartSpecifier.Text));
        Assert.Equal(Corpus.Crlf(Corpus.SimpleText), Range(raw, index, ""));

        // RFC 9051 §6.4.5: a non-multipart message has a part 1, which is its body.
        Assert.Equal(Text, Range(raw, index, "1"));
        Assert.Equal(header, Range(raw, index, "1", PartSpecifier.Mime));
        Assert.False(PartLocator.TryLocate(index, [2], PartSpecifier.None, out _));
        Assert.False(PartLocator.TryLocate(index, [1, 1], PartSpecifier.None, out _));
        Assert.False(PartLocator.TryLocate(index, [1], PartSpecifier.Text, out _));
        Assert.False(PartLocator.TryLocate(index, [1], PartSpecifier.Header, out _));
        Assert.False(PartLocator.TryLocate(index, [], PartSpecifier.Mime, out _));
        Assert.False(PartLocator.TryLocate(index, [0], PartSpecifier.None, out _));
    }

    [Fact]
    public async Task Missing_content_type_defaults_to_text_plain_us_ascii()
    {
        var (index, raw) = await IndexAsync(Corpus.NoContentType);
        Assert.Equal("text", index.Body.MediaType);
        Assert.Equal("plain", index.Body.MediaSubtype);
        Assert.Equal("us-ascii", index.Body.Charset);
        Assert.Null(index.Body.TransferEncoding);
        Assert.Equal("line one\r\nline two", Range(raw, index, "1"));
        Assert.Equal(2, index.Body.Lines);
    }

    [Fact]
    public async Task Multipart_alternative_ranges_exclude_the_crlf_before_boundaries()
    {
        var (index, raw) = await IndexAsync(Corpus.Alternative);
        var body = index.Body;
        Assert.Equal(BodyPartKind.Multipart, body.Kind);
        Assert.Equal("multipart", body.MediaType);
        Assert.Equal("alternative", body.MediaSubtype);
        Assert.Equal("b1", body.Boundary);
        Assert.Equal(2, body.Children.Count);

        // RFC 2046 §5.1.1: the CRLF preceding the boundary delimiter belongs to the boundary.
        Assert.Equal("Caf=C3=A9 au lait\r\nis nice.", Range(raw, index, "1"));
        Assert.Equal("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", Range(raw, index, "1", PartSpecifier.Mime));
        Assert.Equal("<html><head><style>p {}</style></head><body><p>Caf&eacute; <b>HTML</b></p></body></html>", Range(raw, index, "2"));
        Assert.Equal("Content-Type: text/html; charset=utf-8\r\n\r\n", Range(raw, index, "2", PartSpecifier.Mime));
        Assert.False(PartLocator.TryLocate(index, [3], PartSpecifier.None, out _));
        Assert.False(PartLocator.TryLocate(index, [1, 1], PartSpecifier.None, out _));

        var text = Range(raw, index, "", PartSpecifier.Text);
        Assert.StartsWith("This is the preamble.\r\n--b1\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("--b1--\r\nepilogue", text, StringComparison.Ordinal);

        var plain = body.Children[0];
        Assert.Equal("quoted-printable", plain.TransferEncoding);
        Assert.Equal("utf-8", plain.Charset);
        Assert.Equal(27, plain.BodySize);
        Assert.Equal(2, plain.Lines);
        Assert.Equal(1, body.Children[1].Lines);
        Assert.Equal("utf-8", body.Children[1].Charset);
    }

    [Fact]
    public async Task Attachment_part_fields_and_binary_decoding()
    {
        var (index, raw) = await IndexAsync(Corpus.MixedWithAttachment);
        var body = index.Body;
        Assert.Equal("==outer==", body.Boundary);
        var text = body.Children[0];
        Assert.Equal("See attached.", Range(raw, index, "1"));
        Assert.Equal([new BodyParameter("charset", "us-ascii")], text.Parameters);

        var att = body.Children[1];
        Assert.Equal("application", att.MediaType);
        Assert.Equal("octet-stream", att.MediaSubtype);
        Assert.Equal([new BodyParameter("name", "data.bin")], att.Parameters);
        Assert.Equal("<part2@example.test>", att.ContentId);
        Assert.Equal("some data", att.Description);
        Assert.Equal("base64", att.TransferEncoding);
        Assert.Equal("Q2hlY2sgSW50ZWdyaXR5IQ==", att.Md5);
        Assert.NotNull(att.Disposition);
        Assert.Equal("attachment", att.Disposition.Type);
        Assert.Equal([new BodyParameter("filename", "data.bin"), new BodyParameter("size", "11")], att.Disposition.Parameters);
        Assert.Equal(["en", "de"], att.Languages);
        Assert.Equal("http://example.test/data.bin", att.Location);
        Assert.Equal(0, att.Lines);
        Assert.Equal("SGVsbG8gV29y\r\nbGQh", Range(raw, index, "2"));
        Assert.Equal(att.BodySize, "SGVsbG8gV29y\r\nbGQh".Length);
        Assert.True(index.Search.HasAttachment);

        // The last part of a multipart ends before the CRLF of the close delimiter; the
        // multipart's own body runs to the end of the epilogue.
        Assert.Equal(raw.Length, body.End);

        // RFC 3516 BINARY: decode the stored range.
        Assert.True(PartLocator.TryLocate(index, [2], PartSpecifier.None, out var range));
        using var decoded = TransferDecoding.OpenDecoded(new ByteRangeStream(new MemoryStream(raw), range), att.TransferEncoding);
        using var copy = new MemoryStream();
        await decoded.CopyToAsync(copy);
        Assert.Equal("Hello World!"u8.ToArray(), copy.ToArray());
        Assert.Equal(12, await TransferDecoding.GetDecodedSizeAsync(new ByteRangeStream(new MemoryStream(raw), range), "BASE64", CancellationToken.None));
    }

    [Fact]
    public async Task Nested_message_rfc822_sections()
    {
        var (index, raw) = await IndexAsync(Corpus.Nested);
        var part = index.Body.Children[1];
        Assert.Equal(BodyPartKind.Message, part.Kind);
        Assert.Equal("message", part.MediaType);
        Assert.Equal("rfc822", part.MediaSubtype);
        Assert.Equal("forwarded", part.Description);
        Assert.NotNull(part.MessageEnvelope);
        Assert.Equal("inner subject", part.MessageEnvelope.Subject);
        Assert.Equal("Inner Person", part.MessageEnvelope.From![0].Name);
        Assert.Equal(new DateTimeOffset(2025, 4, 2, 8, 0, 0, TimeSpan.Zero), part.MessageEnvelope.ParsedDate);
        Assert.NotNull(part.Message);
        Assert.Equal(part.BodyOffset, part.Message.Offset);
        Assert.Equal("IN", part.Message.Boundary);

        const string InnerHeader = "From: Inner Person <inner@example.test>\r\nSubject: inner subject\r\nDate: Wed, 2 Apr 2025 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=IN\r\n\r\n";
        const string InnerText = "--IN\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--IN\r\nContent-Type: text/html\r\n\r\n<p>inner html</p>\r\n--IN--\r\n";
        Assert.Equal(InnerHeader + InnerText, Range(raw, index, "2"));
        Assert.Equal("Content-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n", Range(raw, index, "2", PartSpecifier.Mime));
        Assert.Equal(InnerHeader, Range(raw, index, "2", PartSpecifier.Header));
        Assert.Equal(InnerText, Range(raw, index, "2", PartSpecifier.Text));
        Assert.Equal("inner text", Range(raw, index, "2.1"));
        Assert.Equal("<p>inner html</p>", Range(raw, index, "2.2"));
        Assert.Equal("Content-Type: text/html\r\n\r\n", Range(raw, index, "2.2", PartSpecifier.Mime));
        Assert.False(PartLocator.TryLocate(index, [2, 3], PartSpecifier.None, out _));
        Assert.False(PartLocator.TryLocate(index, [2, 1], PartSpecifier.Header, out _));
        Assert.Equal(15, part.Lines);
        Assert.Contains("inner text", index.Search.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nested_non_multipart_message_has_part_1()
    {
        const string Msg = """
            Content-Type: multipart/mixed; boundary=Z

            --Z
            Content-Type: message/rfc822

            Subject: in

            just text
            --Z--
            """;
        var (index, raw) = await IndexAsync(Msg);
        Assert.Equal("Subject: in\r\n\r\n", Range(raw, index, "1", PartSpecifier.Header));
        Assert.Equal("just text", Range(raw, index, "1", PartSpecifier.Text));
        Assert.Equal("just text", Range(raw, index, "1.1"));
        Assert.False(PartLocator.TryLocate(index, [1, 2], PartSpecifier.None, out _));
        Assert.Equal(3, index.Body.Children[0].Lines);
    }

    [Fact]
    public async Task Rfc2231_parameters_are_decoded()
    {
        var (index, _) = await IndexAsync(Corpus.Rfc2231);
        var part = index.Body.Children[0];
        Assert.Equal("This is even more ***fun*** isn't it!", part.GetParameter("title"));
        Assert.Equal("€ rates.txt", part.Disposition!.Parameters[0].Value);
        Assert.Equal("filename", part.Disposition.Parameters[0].Name);
    }

    [Fact]
    public async Task Lf_only_input_offsets_are_exact()
    {
        var (index, raw) = await IndexAsync(Corpus.Alternative, crlf: false);
        Assert.Equal("Caf=C3=A9 au lait\nis nice.", Range(raw, index, "1"));
        Assert.Equal("Content-Type: text/html; charset=utf-8\n\n", Range(raw, index, "2", PartSpecifier.Mime));
        Assert.EndsWith("boundary=\"b1\"\n\n", Range(raw, index, "", PartSpecifier.Header), StringComparison.Ordinal);
        Assert.Equal("alt", index.Search.BaseSubject);
    }

    [Fact]
    public async Task No_trailing_newline()
    {
        var (index, raw) = await IndexAsync("From: a@example.test\nSubject: x\n\nlast line without newline");
        Assert.Equal("last line without newline", Range(raw, index, "1"));
        Assert.Equal(1, index.Body.Lines);

        var (headerOnly, raw2) = await IndexAsync("From: a@example.test\nSubject: only headers");
        Assert.Equal(raw2.Length, headerOnly.Size);
        Assert.Equal("", Range(raw2, headerOnly, "", PartSpecifier.Text));
        Assert.Equal("only headers", headerOnly.Envelope.Subject);
    }

    [Theory]
    [InlineData(nameof(Corpus.MalformedNoCloseBoundary))]
    [InlineData(nameof(Corpus.MalformedBoundaryMissing))]
    [InlineData(nameof(Corpus.MalformedContentType))]
    public async Task Malformed_mime_is_indexed_without_throwing(string name)
    {
        var (index, raw) = await IndexAsync(Corpus.Get(name));
        AssertRangesWellFormed(index.Body, raw.Length);
        Assert.Equal("a@example.test", index.Envelope.From![0].Address);
    }

    [Fact]
    public async Task Multipart_without_parts_gets_an_empty_text_part()
    {
        var (index, raw) = await IndexAsync(Corpus.MalformedBoundaryMissing);
        var child = Assert.Single(index.Body.Children);
        Assert.Equal("text", child.MediaType);
        Assert.Equal(0, child.BodySize);
        Assert.Equal("", Range(raw, index, "1"));
    }

    [Fact]
    public async Task Unterminated_multipart_part_runs_to_end()
    {
        var (index, raw) = await IndexAsync(Corpus.MalformedNoCloseBoundary);
        Assert.Equal("unterminated part", Range(raw, index, "1"));
        Assert.Equal(raw.Length, index.Body.Children[0].End);
    }

    [Fact]
    public async Task Unknown_transfer_encoding_is_reported_unsupported()
    {
        var (index, _) = await IndexAsync(Corpus.MalformedContentType);
        Assert.Equal("x-unknown", index.Body.TransferEncoding);
        Assert.False(TransferDecoding.IsSupported(index.Body.TransferEncoding));
        Assert.True(TransferDecoding.IsSupported(null));
        Assert.True(TransferDecoding.IsSupported("Quoted-Printable"));
        Assert.Throws<NotSupportedException>(() => TransferDecoding.OpenDecoded(new MemoryStream(), "x-unknown"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\r\n")]
    [InlineData("not a header line at all\r\n\r\nbody")]
    [InlineData("\0\0\0\xff\xfe binary junk")]
    [InlineData("From: a@b\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\nx\r\n----\r\n")]
    [InlineData("Content-Type: message/rfc822\r\n\r\n")]
    [InlineData("Content-Type: message/rfc822\r\n\r\nnot: headers\r\n")]
    [InlineData("From: <<<@@@>>> ,,, \"unterminated\r\nTo: (comment (nested) unclosed\r\nCc: a@[1.2.3.4, :;\r\n\r\n")]
    public async Task Garbage_never_throws(string text)
    {
        var raw = System.Text.Encoding.Latin1.GetBytes(text);
        var index = await IndexAsync(raw);
        Assert.Equal(raw.Length, index.Size);
        AssertRangesWellFormed(index.Body, raw.Length);
        var roundTrip = MessageIndexSerializer.Deserialize(MessageIndexSerializer.Serialize(index));
        Assert.Equal(Dump(index), Dump(roundTrip));
        Assert.True(PartLocator.TryLocate(index, [], PartSpecifier.Header, out _));
    }

    [Fact]
    public async Task Deep_nesting_is_bounded()
    {
        var sb = new System.Text.StringBuilder("From: a@example.test\r\n");
        const int Levels = 300;
        for (var i = 0; i < Levels; i++)
        {
            sb.Append("Content-Type: multipart/mixed; boundary=b").Append(i).Append("\r\n\r\n--b").Append(i).Append("\r\n");
        }

        sb.Append("Content-Type: text/plain\r\n\r\ndeep\r\n");
        for (var i = Levels - 1; i >= 0; i--)
        {
            sb.Append("--b").Append(i).Append("--\r\n");
        }

        var raw = System.Text.Encoding.ASCII.GetBytes(sb.ToString());
        var index = await IndexAsync(raw);
        var depth = 0;
        for (var p = index.Body; p.Children.Count > 0; p = p.Children[0])
        {
            depth++;
        }

        Assert.InRange(depth, 1, MessageIndexer.MaxDepth);
        AssertRangesWellFormed(index.Body, raw.Length);
        var roundTrip = MessageIndexSerializer.Deserialize(MessageIndexSerializer.Serialize(index));
        Assert.Equal(Dump(index), Dump(roundTrip));
    }

    [Fact]
    public async Task Part_count_is_capped()
    {
        var sb = new System.Text.StringBuilder("Content-Type: multipart/mixed; boundary=q\r\n\r\n");
        for (var i = 0; i < MessageIndexer.MaxParts + 50; i++)
        {
            sb.Append("--q\r\n\r\n").Append(i).Append("\r\n");
        }

        sb.Append("--q--\r\n");
        var raw = System.Text.Encoding.ASCII.GetBytes(sb.ToString());
        var index = await IndexAsync(raw);
        Assert.Equal(MessageIndexer.MaxParts - 1, index.Body.Children.Count);
        Assert.Equal("0", Range(raw, index, "1"));
        Assert.Equal("4998", Range(raw, index, "4999"));
    }

    [Fact]
    public async Task Multipart_digest_defaults_to_message_rfc822()
    {
        const string Msg = """
            Content-Type: multipart/digest; boundary=D

            --D

            Subject: digest item

            item body
            --D--
            """;
        var (index, raw) = await IndexAsync(Msg);
        var item = index.Body.Children[0];
        Assert.Equal(BodyPartKind.Message, item.Kind);
        Assert.Equal("message", item.MediaType);
        Assert.Equal("rfc822", item.MediaSubtype);
        Assert.Equal("digest item", item.MessageEnvelope!.Subject);
        Assert.Equal("item body", Range(raw, index, "1.1"));
        Assert.Equal("\r\n", Range(raw, index, "1", PartSpecifier.Mime));
    }

    [Fact]
    public async Task Non_seekable_stream_is_buffered()
    {
        var raw = Corpus.Bytes(Corpus.Crlf(Corpus.Alternative));
        var index = await MessageIndexer.IndexAsync(new NonSeekableStream(raw), CancellationToken.None);
        var expected = await IndexAsync(raw);
        Assert.Equal(Dump(expected), Dump(index));
    }

    internal static void AssertRangesWellFormed(BodyPart part, long size)
    {
        Assert.InRange(part.Offset, 0, size);
        Assert.InRange(part.BodyOffset, part.Offset, size);
        Assert.InRange(part.End, part.BodyOffset, size);
        Assert.True(part.Lines >= 0);
        if (part.Kind == BodyPartKind.Multipart)
        {
            Assert.NotEmpty(part.Children);
        }

        foreach (var child in part.Children)
        {
            Assert.InRange(child.Offset, part.BodyOffset, part.End);
            Assert.InRange(child.End, child.Offset, part.End);
            AssertRangesWellFormed(child, size);
        }

        if (part.Message is { } nested)
        {
            Assert.Equal(part.BodyOffset, nested.Offset);
            Assert.InRange(nested.End, nested.BodyOffset, part.End);
            AssertRangesWellFormed(nested, size);
        }
    }

    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream inner = new(data);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}