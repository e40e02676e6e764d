using System.Text;

using MimeKit;

namespace Pochta.Delivery.Tests;

public class DsnBuilderTests
{
    private static readonly DateTimeOffset Arrival = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 11, 30, 0, TimeSpan.Zero);

    private static readonly byte[] Original = Encoding.UTF8.GetBytes(Fakes.Harness.Message);

    private static async Task<MimeMessage> BuildAndReparseAsync(DsnReport report)
    {
        var dsn = await DsnBuilder.BuildAsync(report, new MemoryStream(Original), CancellationToken.None);
        var bytes = new MemoryStream();
        await dsn.WriteToAsync(bytes);
        bytes.Position = 0;
        return await MimeMessage.LoadAsync(bytes);
    }

    private static DsnReport Report(bool full, params DsnRecipient[] recipients) =>
        new("mx.pochta.test", "alice@pochta.test", "ENV-42", Arrival, full, recipients, Now);

    private static DsnRecipient Failed(string address, string? orcpt = null) =>
        new(address, orcpt, DsnAction.Failed, "5.1.1", "mx.remote.test", "550 5.1.1 No such user", Now, null);

    [Fact]
    public async Task Failure_report_is_multipart_report_with_every_rfc3464_field()
    {
        var dsn = await BuildAndReparseAsync(Report(false, Failed("bob@remote.test", "rfc822;bob+2Bx@remote.test")));

        Assert.Equal("MAILER-DAEMON@mx.pochta.test", dsn.From.Mailboxes.Single().Address);
        Assert.Equal("alice@pochta.test", dsn.To.Mailboxes.Single().Address);
        Assert.Equal("auto-replied", dsn.Headers["Auto-Submitted"]);

        var report = Assert.IsType<MultipartReport>(dsn.Body!);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.Equal("multipart/report", report.ContentType.MimeType);
        Assert.Equal("delivery-status", report.ContentType.Parameters["report-type"]);
        Assert.Equal(3, report.Count);

        var text = Assert.IsType<TextPart>(report[0]);
        Assert.Contains("bob@remote.test", text.Text, StringComparison.Ordinal);
        Assert.Contains("550 5.1.1 No such user", text.Text, StringComparison.Ordinal);

        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        Assert.Equal("message/delivery-status", status.ContentType.MimeType);
        Assert.Equal(2, status.StatusGroups.Count);
        var perMessage = status.StatusGroups[0];
        Assert.Equal("ENV-42", perMessage["Original-Envelope-Id"]);
        Assert.Equal("dns; mx.pochta.test", perMessage["Reporting-MTA"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(perMessage["Arrival-Date"], out var arrival));
        Assert.Equal(Arrival, arrival);

        var rcpt = status.StatusGroups[1];
        Assert.Equal("rfc822; bob+x@remote.test", rcpt["Original-Recipient"]); // xtext decoded (RFC 3464 §2.3.1)
        Assert.Equal("rfc822; bob@remote.test", rcpt["Final-Recipient"]);
        Assert.Equal("failed", rcpt["Action"]);
        Assert.Equal("5.1.1", rcpt["Status"]);
        Assert.Equal("dns; mx.remote.test", rcpt["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 No such user", rcpt["Diagnostic-Code"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(rcpt["Last-Attempt-Date"], out var last));
        Assert.Equal(Now, last);

        // RFC 3464 §2.3: Original-Recipient comes before Final-Recipient.
        Assert.True(rcpt.IndexOf("Original-Recipient") < rcpt.IndexOf("Final-Recipient"));
    }

    [Fact]
    public async Task Delivery_status_groups_are_separated_by_one_empty_line_and_none_trails()
    {
        var dsn = await DsnBuilder.BuildAsync(Report(false, Failed("bob@remote.test"), Failed("carol@remote.test")), new MemoryStream(Original), CancellationToken.None);
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        var bytes = new MemoryStream();
        await dsn.WriteToAsync(options, bytes);
        var text = Encoding.ASCII.GetString(bytes.ToArray());
        var start = text.IndexOf("Content-Type: message/delivery-status", StringComparison.Ordinal);
        var body = text.IndexOf("\r\n\r\n", start, StringComparison.Ordinal) + 4;
        var end = text.IndexOf("\r\n--", body, StringComparison.Ordinal);
        var content = text[body..end];

        // RFC 3464 §2.1: per-message fields, then each recipient's after one empty line; the
        // last field line ends with its CRLF and the boundary's CRLF follows directly.
        var groups = content.Split("\r\n\r\n");
        Assert.Equal(3, groups.Length);
        Assert.StartsWith("Original-Envelope-Id: ENV-42\r\n", groups[0], StringComparison.Ordinal);
        Assert.StartsWith("Final-Recipient: rfc822; bob@remote.test\r\n", groups[1], StringComparison.Ordinal);
        Assert.StartsWith("Final-Recipient: rfc822; carol@remote.test\r\n", groups[2], StringComparison.Ordinal);
        Assert.EndsWith("\r\n", groups[2], StringComparison.Ordinal);
        Assert.False(groups[2].EndsWith("\r\n\r\n", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ret_hdrs_returns_only_the_header()
    {
        var dsn = await BuildAndReparseAsync(Report(false, Failed("bob@remote.test")));
        var part = ((MultipartReport)dsn.Body!)[2];
        Assert.Equal("text/rfc822-headers", part.ContentType.MimeType);
        var headers = Assert.IsType<TextRfc822Headers>(part);
        Assert.Equal("Hello", headers.Message!.Subject);
        Assert.Equal("hello-1@pochta.test", headers.Message!.MessageId);

        var written = new MemoryStream();
        await dsn.WriteToAsync(written);
        Assert.DoesNotContain("A second line.", Encoding.UTF8.GetString(written.ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ret_full_returns_the_whole_message()
    {
        var dsn = await BuildAndReparseAsync(Report(true, Failed("bob@remote.test")));
        var part = Assert.IsType<MessagePart>(((MultipartReport)dsn.Body!)[2]);
        Assert.Equal("message/rfc822", part.ContentType.MimeType);
        Assert.Equal("Hello", part.Message!.Subject);
        Assert.Contains("A second line.", part.Message!.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delay_report_has_will_retry_until_and_no_envelope_id_when_absent()
    {
        var until = Arrival + TimeSpan.FromDays(5);
        var report = new DsnReport("mx.pochta.test", "alice@pochta.test", null, Arrival, false,
            [new DsnRecipient("bob@remote.test", null, DsnAction.Delayed, "4.4.1", null, "451 4.4.1 Connection refused", Now, until)], Now);
        var dsn = await BuildAndReparseAsync(report);
        var status = (MessageDeliveryStatus)((MultipartReport)dsn.Body!)[1];
        Assert.Null(status.StatusGroups[0]["Original-Envelope-Id"]);
        var rcpt = status.StatusGroups[1];
        Assert.Equal("delayed", rcpt["Action"]);
        Assert.Equal("4.4.1", rcpt["Status"]);
        Assert.Null(rcpt["Remote-MTA"]);
        Assert.Null(rcpt["Original-Recipient"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(rcpt["Will-Retry-Until"], out var parsed));
        Assert.Equal(until, parsed);
        Assert.StartsWith("Delayed Mail", dsn.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_recipients_get_one_block_each()
    {
        var dsn = await BuildAndReparseAsync(Report(false, Failed("a@remote.test"), Failed("b@remote.test")));
        var status = (MessageDeliveryStatus)((MultipartReport)dsn.Body!)[1];
        Assert.Equal(["rfc822; a@remote.test", "rfc822; b@remote.test"], status.StatusGroups.Skip(1).Select(g => g["Final-Recipient"]));
    }

    [Fact]
    public async Task Relayed_and_delivered_actions_are_spelled_per_rfc3464()
    {
        var dsn = await BuildAndReparseAsync(Report(false,
            new DsnRecipient("a@remote.test", null, DsnAction.Relayed, "2.0.0", "mx.remote.test", "250 2.0.0 OK", Now, null)));
        var status = (MessageDeliveryStatus)((MultipartReport)dsn.Body!)[1];
        Assert.Equal("relayed", status.StatusGroups[1]["Action"]);
    }

    [Theory]
    [InlineData("\"john smith\"@remote.test")]
    [InlineData("\u00e9l\u00e8ve@\u00e9cole.test")]
    [InlineData("user@[192.0.2.1]")]
    public async Task Unusual_envelope_senders_still_get_their_report(string sender)
    {
        var report = new DsnReport("mx.pochta.test", sender, null, Arrival, false, [Failed("b\u00f6b@remote.test")], Now);
        var dsn = await BuildAndReparseAsync(report);
        Assert.Single(dsn.To.Mailboxes);
        var status = (MessageDeliveryStatus)((MultipartReport)dsn.Body!)[1];
        Assert.Equal("utf-8; b\u00f6b@remote.test", status.StatusGroups[1]["Final-Recipient"]); // RFC 6533
    }

    [Fact]
    public async Task A_report_without_recipients_is_refused() =>
        await Assert.ThrowsAsync<ArgumentException>(() => DsnBuilder.BuildAsync(Report(false), new MemoryStream(Original), CancellationToken.None));

    [Theory]
    [InlineData("rfc822;bob@remote.test", "rfc822; bob@remote.test")]
    [InlineData("rfc822;a+2Bb+3Dc@remote.test", "rfc822; a+b=c@remote.test")]
    [InlineData("bob@remote.test", "rfc822; bob@remote.test")]
    [InlineData("utf-8;b\u00f6b@remote.test", "utf-8; b\u00f6b@remote.test")]
    public void Orcpt_becomes_original_recipient_field(string orcpt, string expected) =>
        Assert.Equal(expected, DsnBuilder.OriginalRecipientField(orcpt));

    [Theory]
    [InlineData("550 5.1.1 No such user", "5.1.1")]
    [InlineData("451 Try later", "4.0.0")]
    [InlineData("554 transaction failed", "5.0.0")]
    [InlineData("250 2.6.0 Queued", "2.6.0")]
    [InlineData("", "4.4.7")]
    public void Status_comes_from_the_enhanced_code_or_the_reply_class(string reply, string expected) =>
        Assert.Equal(expected, SmtpReplyText.GetStatus(reply, "4.4.7"));

    [Fact]
    public void Remote_reply_text_is_kept_on_one_line() =>
        Assert.Equal("550 5.1.1 a  b", SmtpReplyText.Format(550, "5.1.1 a\r\nb"));

    [Fact]
    public async Task A_local_delivery_failure_bounces_through_the_same_sender()
    {
        // The inbound side (over quota for a message relayed in) reports on a message that was never queued.
        var store = new Fakes.FakeMailStore();
        var sender = new DsnSender(store, new Fakes.NullIndexer(), new OutboundQueueSignal(), Microsoft.Extensions.Logging.Abstractions.NullLogger<DsnSender>.Instance);
        var original = new DsnOriginal("someone@elsewhere.test", "E1", true, Arrival, _ => Task.FromResult<Stream>(new MemoryStream(Original)));
        var sent = await sender.SendAsync(original, [new DsnRecipient("bob@pochta.test", null, DsnAction.Failed, "5.2.2", null, "552 5.2.2 Mailbox full", Now, null)], "mx.pochta.test", Now, CancellationToken.None);
        Assert.True(sent);
        var queued = Assert.Single(store.Entries());
        Assert.Equal("", queued.Sender);
        Assert.Equal("someone@elsewhere.test", queued.Recipients.Single().Address);
        var dsn = await MimeMessage.LoadAsync(new MemoryStream(store.GetMessage(queued.MessageId)));
        Assert.IsType<MessagePart>(((MultipartReport)dsn.Body!)[2]); // RET=FULL on a failure
        Assert.Equal("5.2.2", ((MessageDeliveryStatus)((MultipartReport)dsn.Body!)[1]).StatusGroups[1]["Status"]);

        Assert.False(await sender.SendAsync(original with { Sender = "" }, [new DsnRecipient("bob@pochta.test", null, DsnAction.Failed, "5.2.2", null, null, Now, null)], "mx.pochta.test", Now, CancellationToken.None));
        Assert.Single(store.Entries());
    }
}