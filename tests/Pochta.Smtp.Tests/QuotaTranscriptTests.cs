using System.Text;

using Microsoft.Extensions.Time.Testing;

using MimeKit;

using Pochta.Sasl;
using Pochta.Smtp.Tests.Support;
using Pochta.Storage;
using Pochta.Storage.Sqlite;

namespace Pochta.Smtp.Tests;

/// <summary>Quotas over SMTP against the real store: 452 4.2.2 / 552 5.2.2 at RCPT, the one DATA
/// reply when some or all local copies do not fit, and the DSN for mail relayed in to a full
/// mailbox, read back from the store and parsed with MimeKit.</summary>
public sealed class QuotaTranscriptTests : SqliteStoreTest
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private protected override async Task SeedAsync(IDirectoryStore directory, CancellationToken ct)
    {
        foreach (var user in new[] { "alice", "bob", "carol" })
        {
            await directory.AddAccountAsync(user + "@example.org", Credential(user + "-pw"), 0, ct);
        }

        await directory.AddAliasAsync("team@example.org", ["alice@example.org", "bob@example.org"], ct);
    }

    private async Task<long> InboxIdAsync(string address)
    {
        var account = await Store.Directory.FindAccountAsync(address, Ct);
        return (await Store.Mailboxes.FindMailboxAsync(account!.Id, "INBOX", Ct))!.Id;
    }

    private async Task<int> InboxCountAsync(string address) => (await Store.Mailboxes.ListMessagesAsync(await InboxIdAsync(address), Ct)).Count;

    /// <summary>Sets the quota and stores one message of <paramref name="used"/> octets
    /// (the whole quota when omitted).</summary>
    private async Task FillAsync(string address, int quota, int? used = null)
    {
        await Store.Directory.SetQuotaAsync(address, quota, 0, Ct);
        var size = used ?? quota;
        var writer = Store.Messages.CreateWriter();
        await using (writer)
        {
            var body = Encoding.ASCII.GetBytes("Subject: filler\r\n\r\n" + new string('x', size - 21) + "\r\n");
            Assert.Equal(size, body.Length);
            await writer.WriteAsync(body, Ct);
            await using var staged = await writer.CompleteAsync(Ct);
            await Store.Messages.CommitAsync(new DeliveryRequest(staged, "I"u8.ToArray(), "", [new LocalDelivery(await InboxIdAsync(address), Core.MessageFlags.None, [], DateTimeOffset.UtcNow)], [], null), Ct);
        }
    }

    private static string Body(int size)
    {
        var head = "From: sender@remote.example\r\nSubject: quota\r\nMessage-ID: <q1@remote.example>\r\n\r\n";
        var body = new StringBuilder(head);
        while (body.Length + 72 < size)
        {
            body.Append('b', 70).Append("\r\n");
        }

        return body.Append("bb\r\n.").ToString();
    }

    private async Task<MimeMessage> SingleQueuedDsnAsync(string to)
    {
        var entry = Assert.Single(await Store.Queue.ListAsync(Ct));
        Assert.Equal("", entry.Sender);
        Assert.Equal(to, Assert.Single(entry.Recipients).Address);
        await using var stream = await Store.Messages.OpenMessageAsync(entry.MessageId, Ct);
        return await MimeMessage.LoadAsync(stream, Ct);
    }

    [Fact]
    public async Task Rcpt_refuses_a_full_mailbox_with_452_and_a_size_above_the_quota_with_552()
    {
        await FillAsync("alice@example.org", 1000);
        await Store.Directory.SetQuotaAsync("bob@example.org", 10_000, 0, Ct);
        await using var h = SmtpHarness.Start(Store, Auth);
        await h.HelloAsync();

        await h.ExpectAsync("MAIL FROM:<sender@remote.example>", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<alice@example.org>", "452 4.2.2 Mailbox full");
        await h.ExpectAsync("RCPT TO:<bob@example.org>", "250 2.1.5");
        await h.ExpectAsync("RSET", "250");

        // RFC 1870: SIZE above bob's whole quota can never fit (552); above what is left, 452.
        await h.ExpectAsync("MAIL FROM:<sender@remote.example> SIZE=20000", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<bob@example.org>", "552 5.2.2");
        await h.ExpectAsync("RCPT TO:<alice@example.org>", "552 5.2.2");
        await h.ExpectAsync("RCPT TO:<carol@example.org>", "250 2.1.5");
        await h.ExpectAsync("RSET", "250");

        await FillAsync("carol@example.org", 3000, 2500);
        await h.ExpectAsync("MAIL FROM:<sender@remote.example> SIZE=1000", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<carol@example.org>", "452 4.2.2");
        await h.ExpectAsync("RCPT TO:<alice@example.org>", "452 4.2.2");
        await h.ExpectAsync("RCPT TO:<bob@example.org>", "250 2.1.5");
        await h.ExpectAsync("RSET", "250");

        // An alias with one member that can still take it is accepted.
        await h.ExpectAsync("MAIL FROM:<sender@remote.example> SIZE=5000", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<team@example.org>", "250 2.1.5");
        await h.ExpectAsync("QUIT", "221");
    }

    [Fact]
    public async Task Data_to_only_full_mailboxes_is_refused_with_452_and_stores_nothing()
    {
        // Not full at RCPT (no SIZE declared), but the message does not fit at commit.
        await FillAsync("alice@example.org", 1000, 800);
        await using var h = SmtpHarness.Start(Store, Auth);
        await h.EnvelopeAsync("sender@remote.example", "alice@example.org");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync(Body(300), "452 4.2.2");

        // Larger than the whole quota: it can never fit.
        await h.ExpectAsync("MAIL FROM:<sender@remote.example>", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<alice@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync(Body(2000), "552 5.2.2");

        Assert.Equal(1, await InboxCountAsync("alice@example.org"));
        Assert.Empty(await Store.Queue.ListAsync(Ct));
        Assert.Equal(800, (await Store.Directory.GetQuotaUsageAsync((await Store.Directory.FindAccountAsync("alice@example.org", Ct))!.Id, Ct))!.UsedBytes);
    }

    [Fact]
    public async Task Relayed_mail_to_a_full_mailbox_is_accepted_for_the_others_and_bounced_with_a_dsn()
    {
        await Store.Directory.SetQuotaAsync("alice@example.org", 300, 0, Ct);
        await using var h = SmtpHarness.Start(Store, Auth);
        await h.HelloAsync();
        await h.ExpectAsync("MAIL FROM:<sender@remote.example> RET=HDRS ENVID=env-42", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<alice@example.org> NOTIFY=FAILURE ORCPT=rfc822;Alice@example.org", "250 2.1.5");
        await h.ExpectAsync("RCPT TO:<bob@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync(Body(1000), "250 2.0.0");

        Assert.Equal(0, await InboxCountAsync("alice@example.org"));
        Assert.Equal(1, await InboxCountAsync("bob@example.org"));

        var dsn = await SingleQueuedDsnAsync("sender@remote.example");
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.Equal("sender@remote.example", Assert.Single(dsn.To.Mailboxes).Address);
        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        var groups = status.StatusGroups.ToList();
        Assert.Equal(2, groups.Count);
        Assert.Equal("dns; mx.example.org", groups[0]["Reporting-MTA"]);
        Assert.Equal("env-42", groups[0]["Original-Envelope-Id"]);
        Assert.NotNull(groups[0]["Arrival-Date"]);
        var rcpt = groups[1];
        Assert.Equal("rfc822; alice@example.org", rcpt["Final-Recipient"]);
        Assert.Equal("rfc822; Alice@example.org", rcpt["Original-Recipient"]);
        Assert.Equal("failed", rcpt["Action"]);
        Assert.Equal("5.2.2", rcpt["Status"]);
        Assert.StartsWith("smtp; 552 5.2.2", rcpt["Diagnostic-Code"], StringComparison.Ordinal);
        Assert.Null(rcpt["Remote-MTA"]);

        // RET=HDRS: only the original header comes back.
        var original = Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal("text/rfc822-headers", original.ContentType.MimeType);
        Assert.Equal("q1@remote.example", original.Message!.MessageId);
        Assert.Equal("quota", original.Message.Subject);
        Assert.True(string.IsNullOrEmpty(original.Message.TextBody));
    }

    [Fact]
    public async Task Ret_full_returns_the_whole_message_and_a_local_sender_gets_the_dsn_in_its_inbox()
    {
        await Store.Directory.SetQuotaAsync("alice@example.org", 300, 0, Ct);
        await using var h = SmtpHarness.Start(Store, Auth);
        await h.HelloAsync();
        await h.ExpectAsync("MAIL FROM:<carol@example.org> RET=FULL", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<team@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync(Body(1000), "250 2.0.0");

        Assert.Equal(1, await InboxCountAsync("bob@example.org"));
        Assert.Empty(await Store.Queue.ListAsync(Ct));
        var entry = Assert.Single(await Store.Mailboxes.ListMessagesAsync(await InboxIdAsync("carol@example.org"), Ct));
        await using var stream = await Store.Messages.OpenMessageAsync(entry.MessageId, Ct);
        var dsn = await MimeMessage.LoadAsync(stream, Ct);
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        var rcpt = ((MessageDeliveryStatus)report[1]).StatusGroups.Skip(1).Single();
        Assert.Equal("rfc822; alice@example.org", rcpt["Final-Recipient"]);
        Assert.Equal("5.2.2", rcpt["Status"]);
        var returned = Assert.IsType<MessagePart>(report[2]);
        Assert.Equal("quota", returned.Message!.Subject);
        Assert.Contains("bbbb", returned.Message.TextBody, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MAIL FROM:<sender@remote.example>", "RCPT TO:<alice@example.org> NOTIFY=NEVER")]
    [InlineData("MAIL FROM:<sender@remote.example>", "RCPT TO:<alice@example.org> NOTIFY=SUCCESS,DELAY")]
    [InlineData("MAIL FROM:<>", "RCPT TO:<alice@example.org>")]
    public async Task No_dsn_for_notify_never_or_success_only_or_the_null_sender(string mail, string rcpt)
    {
        await Store.Directory.SetQuotaAsync("alice@example.org", 300, 0, Ct);
        await using var h = SmtpHarness.Start(Store, Auth);
        await h.HelloAsync();
        await h.ExpectAsync(mail, "250 2.1.0");
        await h.ExpectAsync(rcpt, "250 2.1.5");
        await h.ExpectAsync("RCPT TO:<bob@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync(Body(1000), "250 2.0.0");
        Assert.Equal(1, await InboxCountAsync("bob@example.org"));
        Assert.Equal(0, await InboxCountAsync("alice@example.org"));
        Assert.Empty(await Store.Queue.ListAsync(Ct));
    }

    [Fact]
    public async Task Bdat_last_to_a_full_mailbox_gets_the_same_replies()
    {
        await FillAsync("alice@example.org", 1000, 800);
        await using var h = SmtpHarness.Start(Store, Auth);
        await h.EnvelopeAsync("sender@remote.example", "alice@example.org");
        var chunk = "Subject: b\r\n\r\n" + new string('c', 200) + "\r\n";
        await h.ExpectRawAsync($"BDAT {chunk.Length} LAST\r\n{chunk}", "452 4.2.2");
        Assert.Equal(1, await InboxCountAsync("alice@example.org"));
    }
}