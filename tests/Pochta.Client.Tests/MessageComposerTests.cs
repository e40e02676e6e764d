using System.Text;

using Microsoft.Extensions.Time.Testing;

using MimeKit;

using Pochta.Client.Cli;
using Pochta.Client.Compose;

namespace Pochta.Client.Tests;

public class MessageComposerTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));

    private static Draft Basic(string text = "Hello, world.\n") => new()
    {
        From = new MailboxAddress("Ann Example", "ann@example.org"),
        To = [MailboxAddress.Parse("bob@example.net")],
        Subject = "Greetings",
        Text = text,
    };

    private static byte[] Serialize(MimeMessage message)
    {
        // As SMTP and IMAP APPEND transmit it: CRLF line ends.
        using var stream = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, stream);
        return stream.ToArray();
    }

    private static MimeMessage Reparse(MimeMessage message) => MimeMessage.Load(new MemoryStream(Serialize(message)));

    [Fact]
    public void TextOnly_IsUtf8TextPlain_WithMessageIdAndDate()
    {
        using var composed = new MessageComposer(Clock).Compose(Basic());
        var wire = Encoding.ASCII.GetString(Serialize(composed.Message));
        var parsed = Reparse(composed.Message);

        var body = Assert.IsType<TextPart>(parsed.Body);
        Assert.Equal("text/plain", body.ContentType.MimeType);
        Assert.Equal("utf-8", body.ContentType.Charset);
        Assert.Equal("Hello, world.\n", body.Text.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.EndsWith("@example.org", parsed.MessageId, StringComparison.Ordinal);
        Assert.Equal(Clock.GetUtcNow(), parsed.Date.ToUniversalTime());
        Assert.Contains("\r\nDate: ", "\r\n" + wire, StringComparison.Ordinal);
        Assert.Contains("MIME-Version: 1.0", wire, StringComparison.Ordinal);
        Assert.Equal("\"Ann Example\" <ann@example.org>", parsed.From.ToString());
    }

    [Fact]
    public void NonAsciiText_IsSevenBitSafe()
    {
        using var composed = new MessageComposer(Clock).Compose(Basic("Привет, мир — ü\n") with { Subject = "Тема" });
        var bytes = Serialize(composed.Message);
        Assert.DoesNotContain(bytes, b => b > 0x7F);
        var parsed = Reparse(composed.Message);
        Assert.Equal("Тема", parsed.Subject);
        Assert.Equal("Привет, мир — ü\n", parsed.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
        var part = Assert.IsType<TextPart>(parsed.Body);
        Assert.NotEqual(ContentEncoding.SevenBit, part.ContentTransferEncoding);
    }

    [Fact]
    public void Attachments_HaveContentTypes_Rfc2231Names_AndExactBytes()
    {
        using var dir = new TempDirectory();
        var pdf = dir.Combine("отчёт 2026.pdf");
        var png = dir.Combine("logo.png");
        var pdfBytes = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(pdf, pdfBytes);
        File.WriteAllBytes(png, [0x89, 0x50, 0x4E, 0x47, 0, 1, 2]);

        using var composed = new MessageComposer(Clock).Compose(Basic() with { Attachments = [pdf, png] });
        var wire = Encoding.ASCII.GetString(Serialize(composed.Message));
        var parsed = Reparse(composed.Message);

        var mixed = Assert.IsType<Multipart>(parsed.Body);
        Assert.Equal("multipart/mixed", mixed.ContentType.MimeType);
        Assert.IsType<TextPart>(mixed[0]);
        var attachments = parsed.Attachments.OfType<MimePart>().ToList();
        Assert.Equal(2, attachments.Count);
        Assert.Equal("application/pdf", attachments[0].ContentType.MimeType);
        Assert.Equal("image/png", attachments[1].ContentType.MimeType);
        Assert.Equal("отчёт 2026.pdf", attachments[0].FileName);
        Assert.Equal(ContentEncoding.Base64, attachments[0].ContentTransferEncoding);

        // RFC 2231 §4: filename*=charset''percent-encoded, not an RFC 2047 encoded-word.
        Assert.Contains("filename*=utf-8''%D0%BE%D1%82%D1%87%D1%91%D1%82%202026.pdf", wire, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("=?utf-8?", wire.Split("\r\n\r\n")[1..].First(), StringComparison.OrdinalIgnoreCase);

        using var decoded = new MemoryStream();
        attachments[0].Content!.DecodeTo(decoded);
        Assert.Equal(pdfBytes, decoded.ToArray());
    }

    [Fact]
    public void Html_IsAnAlternative_AfterThePlainText()
    {
        using var composed = new MessageComposer(Clock).Compose(Basic() with { Text = null, Html = "<p>Hi <b>there</b></p><p>Line&nbsp;two</p>" });
        var parsed = Reparse(composed.Message);
        var alternative = Assert.IsType<MultipartAlternative>(parsed.Body);
        Assert.Equal("text/plain", alternative[0].ContentType.MimeType);
        Assert.Equal("text/html", alternative[1].ContentType.MimeType);
        Assert.Equal("Hi there\n\nLine two", parsed.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).Trim());
    }

    [Fact]
    public void Bcc_IsKeptInTheComposedCopy()
    {
        using var composed = new MessageComposer(Clock).Compose(Basic() with { Bcc = [MailboxAddress.Parse("secret@example.com")] });
        Assert.Equal("secret@example.com", composed.Message.Bcc.Mailboxes.Single().Address);
    }

    [Fact]
    public void NoRecipients_IsAUsageError()
    {
        var error = Assert.Throws<ClientException>(() => new MessageComposer(Clock).Compose(Basic() with { To = [] }));
        Assert.Equal(ExitCodes.Error, error.ExitCode);
    }

    [Fact]
    public void MissingAttachment_IsAUsageError()
    {
        var error = Assert.Throws<ClientException>(() => new MessageComposer(Clock).Compose(Basic() with { Attachments = ["/nonexistent/file.bin"] }));
        Assert.Equal(ExitCodes.Error, error.ExitCode);
        Assert.Contains("/nonexistent/file.bin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_CarriesTheOriginalAsMessageRfc822()
    {
        using var original = new MessageComposer(Clock).Compose(Basic("original text\n"));
        var draft = ReplyBuilder.Forward(original.Message, new MailboxAddress("Bob", "bob@example.net"), [MailboxAddress.Parse("carol@example.com")], [], "FYI\n");
        using var composed = new MessageComposer(Clock).Compose(draft);
        var parsed = Reparse(composed.Message);
        Assert.Equal("Fwd: Greetings", parsed.Subject);
        var inner = Assert.IsType<MessagePart>(((Multipart)parsed.Body!)[1]);
        Assert.Equal("message/rfc822", inner.ContentType.MimeType);
        Assert.Equal(original.Message.MessageId, inner.Message!.MessageId);
        Assert.Equal("original text\n", inner.Message.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}