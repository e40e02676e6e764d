using System.Text;
using System.Text.Json;

using Microsoft.Extensions.DependencyInjection;

using MimeKit;

using Pochta.Client.Cli;
using Pochta.Client.Config;
using Pochta.Core;
using Pochta.Hosting;
using Pochta.Sasl;
using Pochta.Storage;
using Pochta.Storage.Sqlite;
using Pochta.Testing;

namespace Pochta.Client.Tests;

/// <summary>
/// The user agent against the real Pochta server in-process (SMTP submission, IMAP, POP3 on
/// loopback): send with an attachment, the recipient's INBOX holds the same bytes, read and
/// save the attachment, reply, fetch over POP3 into a Maildir, the server no longer has it.
/// </summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private const string Domain = "example.test";
    private readonly List<TempDirectory> _homes = [];
    private PochtaTestServer _server = null!;

    public async Task InitializeAsync()
    {
        // Submission(s), IMAP(S) and POP3 on ephemeral loopback ports; nothing else.
        var options = new PochtaTestServerOptions { ConfigureServices = WireMissing };
        foreach (var name in new[] { "smtp", "pop3s", "http" })
        {
            options.Configuration[$"Listeners:{name}:Enabled"] = "false";
        }

        _server = await PochtaTestServer.StartAsync(options);
        await CreateUserAsync("alice", "alice-pw");
        await CreateUserAsync("bob", "bob-pw");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var home in _homes)
        {
            home.Dispose();
        }
    }

    private int Port(MailProtocol protocol) => _server.Port(protocol);

    /// <summary>Until the composition root registers them, the store and the authenticator come from here.</summary>
    private static void WireMissing(IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(IMailStore)))
        {
            services.AddPochtaSqliteStore();
        }

        if (!services.Any(d => d.ServiceType == typeof(IAuthenticator)))
        {
            services.AddPochtaSasl();
        }

        if (!services.Any(d => d.ServiceType == typeof(IMailProtocolHandler)))
        {
            Delivery.Inbound.InboundServiceCollectionExtensions.AddPochtaInbound(services);
            Smtp.SmtpServiceCollectionExtensions.AddPochtaSmtp(services);
            Imap.ImapServiceCollectionExtensions.AddPochtaImap(services);
            Pop3.Pop3ServiceCollectionExtensions.AddPochtaPop3(services);
        }
    }

    private async Task CreateUserAsync(string name, string password)
    {
        var directory = _server.Store.Directory;
        if (await directory.FindDomainAsync(Domain, CancellationToken.None) is null)
        {
            await directory.AddDomainAsync(Domain, CancellationToken.None);
        }

        await directory.AddAccountAsync($"{name}@{Domain}", PasswordCredential.Create(password, 4096), 0, CancellationToken.None);
    }

    private async Task<CliHarness> UserAsync(string name, string password)
    {
        var home = new TempDirectory();
        _homes.Add(home);
        var cli = new CliHarness(home);
        cli.Variables[PasswordResolver.EnvironmentVariable] = password;
        var (code, _, error) = await cli.MailAsync("account", "add", name, "--address", $"{name}@{Domain}",
            "--smtp", $"127.0.0.1:{Port(MailProtocol.Submission)}", "--smtp-security", "none",
            "--imap", $"127.0.0.1:{Port(MailProtocol.Imap)}", "--imap-security", "none",
            "--pop3", $"127.0.0.1:{Port(MailProtocol.Pop3)}", "--pop3-security", "none");
        Assert.True(code == 0, error);
        return cli;
    }

    private static async Task<JsonElement> JsonAsync(CliHarness cli, params string[] args)
    {
        var (code, output, error) = await cli.MailAsync([.. args, "--json"]);
        Assert.True(code == 0, $"{string.Join(' ', args)}: {error}");
        using var document = JsonDocument.Parse(output);
        return document.RootElement.Clone();
    }

    private static bool EndsWith(byte[] whole, byte[] tail) => whole.AsSpan().EndsWith(tail);

    [Fact]
    public async Task Send_Read_Reply_Fetch()
    {
        var alice = await UserAsync("alice", "alice-pw");
        var bob = await UserAsync("bob", "bob-pw");
        var attachment = Path.Combine(_homes[0].Path, "résumé.pdf");
        var payload = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31)).ToArray();
        await File.WriteAllBytesAsync(attachment, payload);

        // Send with an attachment; a copy goes to alice's Sent.
        alice.Stdin = "Hi Bob,\nthe report is attached.\n";
        var sent = await JsonAsync(alice, "send", "--to", $"bob@{Domain}", "--subject", "Quarterly report", "--attach", attachment);
        Assert.True(sent.GetProperty("savedToSent").GetBoolean());
        var messageId = sent.GetProperty("messageId").GetString();

        // The recipient's INBOX holds the submitted bytes (after the server's trace fields).
        var inbox = Assert.Single(await _server.ReadMailboxAsync($"bob@{Domain}"));
        var sentCopy = Assert.Single(await _server.ReadMailboxAsync($"alice@{Domain}", "Sent"));
        Assert.True(EndsWith(inbox, sentCopy), "INBOX copy differs from what was submitted");

        // list / read / save-attachments over IMAP.
        var listed = (await JsonAsync(bob, "list")).EnumerateArray().Single();
        Assert.Equal("Quarterly report", listed.GetProperty("subject").GetString());
        Assert.DoesNotContain("seen", listed.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var uid = listed.GetProperty("uid").GetUInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);

        var read = await JsonAsync(bob, "read", uid);
        Assert.Equal(messageId, read.GetProperty("messageId").GetString());
        Assert.Equal("Hi Bob,\nthe report is attached.\n", read.GetProperty("text").GetString()!.Replace("\r\n", "\n", StringComparison.Ordinal));
        var listedAttachment = read.GetProperty("attachments").EnumerateArray().Single();
        Assert.Equal("résumé.pdf", listedAttachment.GetProperty("fileName").GetString());
        Assert.Equal("application/pdf", listedAttachment.GetProperty("contentType").GetString());
        Assert.Equal(payload.Length, listedAttachment.GetProperty("size").GetInt64());

        var saveDir = Path.Combine(_homes[1].Path, "saved");
        var saved = (await JsonAsync(bob, "save-attachments", uid, saveDir)).EnumerateArray().Single().GetString()!;
        Assert.Equal(payload, await File.ReadAllBytesAsync(saved));

        var raw = await bob.MailAsync("read", uid, "--raw", "--peek");
        Assert.Equal(0, raw.Code);
        Assert.EndsWith(Encoding.UTF8.GetString(sentCopy), raw.Out, StringComparison.Ordinal);

        // Reading marked it \Seen.
        listed = (await JsonAsync(bob, "list")).EnumerateArray().Single();
        Assert.Contains("seen", listed.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        // Reply: threads, quotes, marks the original \Answered.
        bob.Stdin = "Thanks!\n";
        await JsonAsync(bob, "reply", uid);
        var replyBytes = (await _server.ReadMailboxAsync($"alice@{Domain}")).Single();
        using (var reply = MimeMessage.Load(new MemoryStream(replyBytes)))
        {
            Assert.Equal("Re: Quarterly report", reply.Subject);
            Assert.Equal(messageId, reply.InReplyTo);
            Assert.Contains(messageId, reply.References);
            Assert.Contains("> the report is attached.", reply.TextBody, StringComparison.Ordinal);
        }

        listed = (await JsonAsync(bob, "list")).EnumerateArray().Single();
        Assert.Contains("answered", listed.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        // POP3 fetch into a Maildir: the same bytes arrive, the server no longer has it.
        var maildir = Path.Combine(_homes[1].Path, "Maildir");
        var fetched = await JsonAsync(bob, "fetch", "--maildir", maildir);
        Assert.Equal(1, fetched.GetProperty("downloaded").GetInt32());
        var file = Assert.Single(Directory.GetFiles(Path.Combine(maildir, "new")));
        Assert.Equal(inbox, await File.ReadAllBytesAsync(file));
        Assert.Empty(await _server.ReadMailboxAsync($"bob@{Domain}"));

        // Nothing new on a second run.
        fetched = await JsonAsync(bob, "fetch", "--maildir", maildir);
        Assert.Equal(0, fetched.GetProperty("downloaded").GetInt32());
    }

    [Fact]
    public async Task Folders_Search_Flag_Copy_Move_Delete()
    {
        var alice = await UserAsync("alice", "alice-pw");
        var bob = await UserAsync("bob", "bob-pw");
        foreach (var subject in new[] { "alpha budget", "beta", "gamma budget" })
        {
            alice.Stdin = $"about {subject}\n";
            await JsonAsync(alice, "send", "--to", $"bob@{Domain}", "--subject", subject, "--no-save");
        }

        var folders = (await JsonAsync(bob, "folders")).EnumerateArray().ToList();
        Assert.Contains(folders, f => f.GetProperty("name").GetString() == "INBOX" && f.GetProperty("messages").GetInt32() == 3);
        Assert.Contains(folders, f => f.GetProperty("specialUse").GetString() == "trash");

        var found = (await JsonAsync(bob, "search", "subject:budget")).EnumerateArray().Select(m => m.GetProperty("subject").GetString()).ToList();
        Assert.Equal(["alpha budget", "gamma budget"], found);
        var none = await bob.MailAsync("search", "subject:nothing-like-this");
        Assert.Equal(ExitCodes.Refused, none.Code);

        var uids = (await JsonAsync(bob, "list")).EnumerateArray().Select(m => m.GetProperty("uid").GetUInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var flagged = (await JsonAsync(bob, "flag", uids[0], "--add", "flagged", "--add", "$Work")).EnumerateArray().Single();
        Assert.Equal(["flagged", "$Work"], flagged.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Single((await JsonAsync(bob, "search", "flagged")).EnumerateArray());

        await JsonAsync(bob, "copy", uids[0], "--to", "Archive");
        Assert.Single(await _server.ReadMailboxAsync($"bob@{Domain}", "Archive"));
        await JsonAsync(bob, "move", uids[1], "--to", "Archive");
        Assert.Equal(2, (await _server.ReadMailboxAsync($"bob@{Domain}", "Archive")).Count);
        Assert.Equal(2, (await _server.ReadMailboxAsync($"bob@{Domain}")).Count);

        await JsonAsync(bob, "delete", uids[2], "--trash");
        Assert.Single(await _server.ReadMailboxAsync($"bob@{Domain}", "Trash"));
        await JsonAsync(bob, "delete", uids[0]);
        Assert.Empty(await _server.ReadMailboxAsync($"bob@{Domain}"));

        var missing = await bob.MailAsync("read", uids[0]);
        Assert.Equal(ExitCodes.Refused, missing.Code);
        Assert.Single(missing.Error.Trim().Split('\n'));
        var noFolder = await bob.MailAsync("list", "No/Such/Folder");
        Assert.Equal(ExitCodes.Refused, noFolder.Code);
    }

    [Fact]
    public async Task ImplicitTls_TrustsOnlyWithTheAccountsCaFile()
    {
        var home = new TempDirectory();
        _homes.Add(home);
        var cli = new CliHarness(home);
        cli.Variables[PasswordResolver.EnvironmentVariable] = "bob-pw";
        var certificate = Path.Combine(_server.DataDirectory, "tls", "cert.pem");
        var imaps = $"127.0.0.1:{Port(MailProtocol.Imaps)}";
        var submissions = $"127.0.0.1:{Port(MailProtocol.Submissions)}";
        Assert.Equal(0, (await cli.MailAsync("account", "add", "untrusted", "--address", $"bob@{Domain}", "--imap", imaps, "--imap-security", "tls")).Code);
        Assert.Equal(0, (await cli.MailAsync("account", "add", "pinned", "--address", $"bob@{Domain}", "--imap", imaps, "--imap-security", "tls",
            "--smtp", submissions, "--smtp-security", "tls", "--ca-file", certificate)).Code);

        var (code, _, error) = await cli.MailAsync("folders", "--account", "untrusted");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Equal($"pochta mail: {imaps}: TLS failed: the server certificate is not trusted or the handshake was refused (see --ca-file)", error.Trim());

        var folders = await JsonAsync(cli, "folders", "--account", "pinned");
        Assert.Contains(folders.EnumerateArray(), f => f.GetProperty("name").GetString() == "INBOX");

        cli.Stdin = "over TLS\n";
        await JsonAsync(cli, "send", "--account", "pinned", "--to", $"alice@{Domain}", "--subject", "tls", "--no-save");
        Assert.Single(await _server.ReadMailboxAsync($"alice@{Domain}"));
    }

    [Fact]
    public async Task WrongPassword_ExitsTwo_WithOneLine()
    {
        var mallory = await UserAsync("bob", "not-bobs-password");
        var (code, _, error) = await mallory.MailAsync("list");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("authentication failed", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Watch_PrintsANewMessage()
    {
        var alice = await UserAsync("alice", "alice-pw");
        var bob = await UserAsync("bob", "bob-pw");
        var watching = bob.MailAsync("watch", "--count", "1", "--json");

        // Give watch time to select and enter IDLE; a message sent earlier is not "new" to it.
        await Task.Delay(TimeSpan.FromSeconds(2));
        alice.Stdin = "ping\n";
        await JsonAsync(alice, "send", "--to", $"bob@{Domain}", "--subject", "arrives while watching", "--no-save");

        var (code, output, error) = await watching.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output.Trim().Split('\n').Single());
        Assert.Equal("arrives while watching", json.RootElement.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Sendmail_SubmitsWithTheAccount()
    {
        var alice = await UserAsync("alice", "alice-pw");
        alice.Stdin = "To: bob@example.test\nSubject: from cron\n\nnightly job ok\n";
        var (code, _, error) = await alice.SendmailAsync("-t", "-i");
        Assert.True(code == 0, error);
        var delivered = Assert.Single(await _server.ReadMailboxAsync($"bob@{Domain}"));
        using var message = MimeMessage.Load(new MemoryStream(delivered));
        Assert.Equal("from cron", message.Subject);
        Assert.Equal($"alice@{Domain}", message.From.Mailboxes.Single().Address);
    }
}