using System.Net.Sockets;
using System.Text;

using MimeKit;

using Pochta.Core;
using Pochta.Testing;

namespace Pochta.Tests;

/// <summary>The real host (composition root, DI, port 25 listener): mail relayed in to a full
/// mailbox is accepted for the other recipient and bounced to the sender with an RFC 3464 DSN,
/// read back from the sender's INBOX and checked with MimeKit field by field.</summary>
public sealed class QuotaEndToEndTests
{
    private static async Task<string> ReplyAsync(StreamReader reader)
    {
        var text = new StringBuilder();
        while (true)
        {
            var line = await reader.ReadLineAsync() ?? throw new IOException("connection closed");
            text.Append(line).Append('\n');
            if (line.Length < 4 || line[3] != '-')
            {
                return text.ToString();
            }
        }
    }

    private static async Task<string> CommandAsync(StreamWriter writer, StreamReader reader, string line, string expected)
    {
        await writer.WriteAsync(line + "\r\n");
        await writer.FlushAsync();
        var reply = await ReplyAsync(reader);
        Assert.StartsWith(expected, reply, StringComparison.Ordinal);
        return reply;
    }

    [Fact]
    public async Task Relayed_mail_to_a_full_mailbox_bounces_with_a_dsn_to_the_sender()
    {
        await using var server = await PochtaTestServer.StartAsync();
        await server.CreateUserAsync("alice@example.test", "pw-alice");
        await server.CreateUserAsync("bob@example.test", "pw-bob");
        await server.CreateUserAsync("carol@example.test", "pw-carol");
        await server.Store.Directory.SetQuotaAsync("alice@example.test", 1000, 0, default);

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(server.EndPoint(MailProtocol.Smtp));
            await using var stream = tcp.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n" };
            Assert.StartsWith("220 ", await ReplyAsync(reader), StringComparison.Ordinal);
            await CommandAsync(writer, reader, "EHLO client.example.net", "250");
            await CommandAsync(writer, reader, "MAIL FROM:<carol@example.test> RET=HDRS ENVID=e2e-1", "250");
            await CommandAsync(writer, reader, "RCPT TO:<alice@example.test> NOTIFY=FAILURE ORCPT=rfc822;alice@example.test", "250");
            await CommandAsync(writer, reader, "RCPT TO:<bob@example.test>", "250");
            await CommandAsync(writer, reader, "DATA", "354");
            var body = new StringBuilder("From: carol@example.test\r\nTo: alice@example.test, bob@example.test\r\nSubject: too big for alice\r\nMessage-ID: <e2e-1@example.test>\r\n\r\n");
            for (var i = 0; i < 40; i++)
            {
                body.Append('z', 70).Append("\r\n");
            }

            await CommandAsync(writer, reader, body + ".", "250 2.0.0");
            await CommandAsync(writer, reader, "QUIT", "221");
        }

        Assert.Empty(await server.ReadMailboxAsync("alice@example.test"));
        Assert.Single(await server.ReadMailboxAsync("bob@example.test"));

        var raw = Assert.Single(await server.ReadMailboxAsync("carol@example.test"));
        var dsn = await MimeMessage.LoadAsync(new MemoryStream(raw));
        Assert.Equal("carol@example.test", Assert.Single(dsn.To.Mailboxes).Address);
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.IsType<TextPart>(report[0]);
        var groups = Assert.IsType<MessageDeliveryStatus>(report[1]).StatusGroups.ToList();
        Assert.Equal(2, groups.Count);
        Assert.StartsWith("dns; ", groups[0]["Reporting-MTA"], StringComparison.Ordinal);
        Assert.Equal("e2e-1", groups[0]["Original-Envelope-Id"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(groups[0]["Arrival-Date"], out _));
        var rcpt = groups[1];
        Assert.Equal("rfc822; alice@example.test", rcpt["Final-Recipient"]);
        Assert.Equal("rfc822; alice@example.test", rcpt["Original-Recipient"]);
        Assert.Equal("failed", rcpt["Action"]);
        Assert.Equal("5.2.2", rcpt["Status"]);
        Assert.StartsWith("smtp; 552 5.2.2", rcpt["Diagnostic-Code"], StringComparison.Ordinal);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(rcpt["Last-Attempt-Date"], out _));
        var headers = Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal("e2e-1@example.test", headers.Message!.MessageId);
        Assert.Equal("too big for alice", headers.Message.Subject);

        // From the mail system (its envelope sender is <>, so it is never itself bounced).
        Assert.StartsWith("MAILER-DAEMON@", Assert.Single(dsn.From.Mailboxes).Address, StringComparison.OrdinalIgnoreCase);
    }
}