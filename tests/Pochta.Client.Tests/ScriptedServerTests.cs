using System.Text;
using System.Text.Json;

using MimeKit;

using Pochta.Client.Cli;
using Pochta.Client.Config;

namespace Pochta.Client.Tests;

/// <summary>The CLI against minimal scripted SMTP and POP3 servers on loopback: what MailKit
/// puts on the wire for our commands, and exit codes for server refusals.</summary>
public class ScriptedServerTests
{
    private static async Task<CliHarness> AccountAsync(TempDirectory home, string? smtp = null, string? pop3 = null)
    {
        var cli = new CliHarness(home);
        cli.Variables[PasswordResolver.EnvironmentVariable] = "pw";
        var args = new List<string> { "account", "add", "me", "--address", "Me <me@example.org>" };
        if (smtp is not null)
        {
            args.AddRange(["--smtp", smtp, "--smtp-security", "none"]);
        }

        if (pop3 is not null)
        {
            args.AddRange(["--pop3", pop3, "--pop3-security", "none"]);
        }

        var (code, _, error) = await cli.MailAsync([.. args]);
        Assert.True(code == 0, error);
        return cli;
    }

    [Fact]
    public async Task Send_SubmitsToEveryRecipient_HidesBcc_AttachesExactBytes()
    {
        await using var smtp = new FakeSmtpServer { Credentials = "\0me@example.org\0pw" };
        using var home = new TempDirectory();
        var cli = await AccountAsync(home, smtp: smtp.Endpoint);
        var file = home.Combine("data.bin");
        var payload = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        await File.WriteAllBytesAsync(file, payload);
        cli.Stdin = "Hello Bob,\n.\nA line with only a dot above.\n";

        var (code, output, error) = await cli.MailAsync("send", "--json", "--to", "bob@example.net", "--cc", "carol@example.net",
            "--bcc", "dave@example.net", "--subject", "Report", "--attach", file);

        Assert.True(code == 0, error);
        var transaction = Assert.Single(smtp.Transactions);
        Assert.Equal("me@example.org", transaction.MailFrom);
        Assert.Equal(["bob@example.net", "carol@example.net", "dave@example.net"], transaction.Recipients);
        var wire = Encoding.ASCII.GetString(transaction.Data);
        Assert.DoesNotContain("dave@example.net", wire, StringComparison.Ordinal);

        var message = MimeMessage.Load(new MemoryStream(transaction.Data));
        Assert.Equal("Report", message.Subject);
        Assert.Equal("Hello Bob,\n.\nA line with only a dot above.\n", message.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
        var attachment = Assert.IsType<MimePart>(Assert.Single(message.Attachments));
        Assert.Equal("data.bin", attachment.FileName);
        using var decoded = new MemoryStream();
        await attachment.Content!.DecodeToAsync(decoded);
        Assert.Equal(payload, decoded.ToArray());

        using var json = JsonDocument.Parse(output);
        Assert.Equal(message.MessageId, json.RootElement.GetProperty("messageId").GetString());
        Assert.False(json.RootElement.GetProperty("savedToSent").GetBoolean());
    }

    [Fact]
    public async Task Send_RefusedRecipient_ExitsOneWithTheServerReply()
    {
        await using var smtp = new FakeSmtpServer { Credentials = "\0me@example.org\0pw" };
        smtp.RefusedRecipients.Add("ghost@example.net");
        using var home = new TempDirectory();
        var cli = await AccountAsync(home, smtp: smtp.Endpoint);
        cli.Stdin = "hi";
        var (code, _, error) = await cli.MailAsync("send", "--to", "ghost@example.net", "--subject", "x");
        Assert.Equal(ExitCodes.Refused, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("550", error, StringComparison.Ordinal);
        Assert.Empty(smtp.Transactions);
    }

    [Fact]
    public async Task Send_WrongPassword_ExitsTwo()
    {
        await using var smtp = new FakeSmtpServer { Credentials = "\0me@example.org\0other" };
        using var home = new TempDirectory();
        var cli = await AccountAsync(home, smtp: smtp.Endpoint);
        cli.Stdin = "hi";
        var (code, _, error) = await cli.MailAsync("send", "--to", "bob@example.net", "--subject", "x");
        Assert.Equal(ExitCodes.Error, code);
        Assert.StartsWith($"pochta mail: {smtp.Endpoint}: authentication failed", error, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", error.Replace(smtp.Endpoint, string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sendmail_T_TakesRecipientsFromHeaders_AndRemovesBcc()
    {
        await using var smtp = new FakeSmtpServer();
        using var home = new TempDirectory();
        var cli = new CliHarness(home) { Stdin = "From: cron@host.example\nTo: ops@example.org\nBcc: audit@example.org\nSubject: nightly\n\nall good\n" };

        var (code, _, error) = await cli.SendmailAsync("-t", "-oi", "-f", "bounces@host.example", "--smtp", smtp.Endpoint, "extra@example.org");

        Assert.True(code == 0, error);
        var transaction = Assert.Single(smtp.Transactions);
        Assert.Equal("bounces@host.example", transaction.MailFrom);
        Assert.Equal(["extra@example.org", "ops@example.org", "audit@example.org"], transaction.Recipients);
        var message = MimeMessage.Load(new MemoryStream(transaction.Data));
        Assert.Empty(message.Bcc);
        Assert.DoesNotContain("audit@", Encoding.ASCII.GetString(transaction.Data), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(message.MessageId));
        Assert.True(message.Headers.Contains(HeaderId.Date));
        Assert.Equal("all good\n", message.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    private static FakePop3Server Pop3WithMessages()
    {
        var server = new FakePop3Server("me@example.org", "pw");
        server.Messages.Add(("u-1", Encoding.ASCII.GetBytes("Subject: one\r\n\r\nfirst\r\n")));
        server.Messages.Add(("u-2", Encoding.ASCII.GetBytes("Subject: two\r\n\r\n.leading dot\r\n..two dots\r\n")));
        server.Messages.Add(("u-3", Encoding.ASCII.GetBytes("Subject: three\r\n\r\nthird\r\n")));
        return server;
    }

    private static string[] Maildir(TempDirectory home) =>
        Directory.GetFiles(home.Combine("Maildir", "new")).Select(File.ReadAllText).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Fetch_DownloadsExactBytes_AndEmptiesTheServer()
    {
        await using var pop3 = Pop3WithMessages();
        var expected = pop3.Messages.Select(m => Encoding.ASCII.GetString(m.Bytes)).Order(StringComparer.Ordinal).ToArray();
        using var home = new TempDirectory();
        var cli = await AccountAsync(home, pop3: pop3.Endpoint);

        var (code, output, error) = await cli.MailAsync("fetch", "--json");

        Assert.True(code == 0, error);
        Assert.Equal(expected, Maildir(home));
        Assert.Empty(pop3.Messages);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(3, json.RootElement.GetProperty("downloaded").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("deleted").GetInt32());
    }

    [Fact]
    public async Task FetchKeep_DownloadsOnce_AndLeavesTheServerAlone()
    {
        await using var pop3 = Pop3WithMessages();
        using var home = new TempDirectory();
        var cli = await AccountAsync(home, pop3: pop3.Endpoint);

        var first = await cli.MailAsync("fetch", "--keep");
        var second = await cli.MailAsync("fetch", "--keep", "--json");

        Assert.True(first.Code == 0, first.Error);
        Assert.True(second.Code == 0, second.Error);
        Assert.Equal(3, pop3.Messages.Count);
        Assert.Equal(3, Maildir(home).Length);
        using var json = JsonDocument.Parse(second.Out);
        Assert.Equal(0, json.RootElement.GetProperty("downloaded").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task Fetch_InterruptedByTheServer_ResumesWithoutDuplicates()
    {
        await using var pop3 = Pop3WithMessages();
        pop3.DropAfterFirstRetr = true;
        using var home = new TempDirectory();
        var cli = await AccountAsync(home, pop3: pop3.Endpoint);

        var broken = await cli.MailAsync("fetch");
        Assert.Equal(ExitCodes.Error, broken.Code);
        Assert.Single(broken.Error.Trim().Split('\n'));
        Assert.Single(Maildir(home));
        Assert.Equal(3, pop3.Messages.Count);

        pop3.DropAfterFirstRetr = false;
        var resumed = await cli.MailAsync("fetch", "--json");
        Assert.True(resumed.Code == 0, resumed.Error);
        Assert.Equal(3, Maildir(home).Length);
        Assert.Empty(pop3.Messages);
        using var json = JsonDocument.Parse(resumed.Out);
        Assert.Equal(2, json.RootElement.GetProperty("downloaded").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task Fetch_WrongPassword_ExitsTwo()
    {
        await using var pop3 = Pop3WithMessages();
        using var home = new TempDirectory();
        var cli = await AccountAsync(home, pop3: pop3.Endpoint);
        cli.Variables[PasswordResolver.EnvironmentVariable] = "wrong";
        var (code, _, error) = await cli.MailAsync("fetch");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("authentication failed", error, StringComparison.Ordinal);
        Assert.Equal(3, pop3.Messages.Count);
    }
}