using System.Globalization;
using System.Text.Json;

using MimeKit;

namespace Pochta.Interop.Tests;

/// <summary>Issue 7 interop: the user agent (<c>pochta mail</c>, the built executable) is a
/// client of any standard server. Here: Postfix's submission port (STARTTLS, AUTH through
/// Dovecot's SASL) and Dovecot's IMAP (STARTTLS) and POP3 (implicit TLS), trusting their
/// certificate only through the account's <c>--ca-file</c>.</summary>
[Collection(DebianMailCollection.Name)]
public sealed class ClientDebianInteropTests(DebianMailFixture fixture) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly string _scratch = DebianDaemons.CreateScratch("pochta-mail-client-");

    public void Dispose() => DebianDaemons.DeleteScratch(_scratch);

    private static string Lf(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    private sealed record Cli(string Home);

    /// <summary>Runs <c>pochta mail ARGS</c> with its own HOME (configuration) and the password
    /// in POCHTA_MAIL_PASSWORD.</summary>
    private static Task<(int Exit, string Output)> MailAsync(Cli cli, string? stdin, params string[] args) => PochtaAsync(cli, stdin, ["mail", .. args]);

    private static async Task<(int Exit, string Output)> PochtaAsync(Cli cli, string? stdin, string[] args)
    {
        var pochta = Path.Combine(AppContext.BaseDirectory, "pochta.dll");
        return await InteropServerFixture.RunAsync("dotnet", [pochta, .. args], cli.Home,
            new Dictionary<string, string>
            {
                ["HOME"] = cli.Home,
                ["POCHTA_MAIL_PASSWORD"] = DebianMailFixture.Password,
                ["DOTNET_NOLOGO"] = "1",
            },
            stdin);
    }

    private async Task<JsonElement> JsonAsync(Cli cli, string? stdin, params string[] args)
    {
        var (exit, output) = await MailAsync(cli, stdin, [.. args, "--json"]);
        Assert.True(exit == 0, $"pochta mail {string.Join(' ', args)} exited {exit}: {output}{fixture.Diagnostics()}");
        using var document = JsonDocument.Parse(output);
        return document.RootElement.Clone();
    }

    private async Task<Cli> AccountAsync(string user)
    {
        var cli = new Cli(Path.Combine(_scratch, user));
        Directory.CreateDirectory(cli.Home);
        static string At(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        var (exit, output) = await MailAsync(cli, null, "account", "add", user, "--address", $"{user}@{DebianMailFixture.PostfixDomain}",
            "--smtp", At(fixture.PostfixSubmissionPort), "--smtp-security", "starttls",
            "--imap", At(fixture.DovecotImapPort), "--imap-security", "starttls",
            "--pop3", At(fixture.DovecotPop3sPort), "--pop3-security", "tls",
            "--ca-file", fixture.CertificatePath);
        Assert.True(exit == 0, output);
        return cli;
    }

    [RequiresToolAsRootFact("postfix", "dovecot")]
    public async Task Send_through_Postfix_read_and_reply_over_Dovecot_IMAP_then_fetch_over_POP3()
    {
        var bob = await AccountAsync("bob");
        var carol = await AccountAsync("carol");
        var attachment = Path.Combine(bob.Home, "data.bin");
        var payload = Enumerable.Range(0, 20_000).Select(i => (byte)(i * 7)).ToArray();
        await File.WriteAllBytesAsync(attachment, payload);

        // Submission to Postfix (STARTTLS, AUTH via Dovecot SASL), a copy into Dovecot's Sent.
        var sent = await JsonAsync(bob, "Hello Carol,\nthe data is attached.\n", "send", "--to", $"carol@{DebianMailFixture.PostfixDomain}", "--subject", "Data via Postfix", "--attach", attachment);
        Assert.True(sent.GetProperty("savedToSent").GetBoolean());
        var messageId = sent.GetProperty("messageId").GetString();

        // Postfix's virtual(8) delivered it into carol's Maildir; Postfix only prepended trace fields.
        var delivered = Assert.Single(await fixture.WaitForMaildirAsync("carol", 1, Patience));
        var sentCopy = Lf(await File.ReadAllTextAsync(Assert.Single(fixture.MaildirFiles("bob", "Sent"))));
        Assert.EndsWith(sentCopy, Lf(await File.ReadAllTextAsync(delivered)), StringComparison.Ordinal);

        // list / read over Dovecot IMAP.
        var listed = (await JsonAsync(carol, null, "list")).EnumerateArray().Single();
        Assert.Equal("Data via Postfix", listed.GetProperty("subject").GetString());
        Assert.DoesNotContain("seen", listed.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var uid = listed.GetProperty("uid").GetUInt32().ToString(CultureInfo.InvariantCulture);
        var read = await JsonAsync(carol, null, "read", uid);
        Assert.Equal(messageId, read.GetProperty("messageId").GetString());
        Assert.Equal("Hello Carol,\nthe data is attached.\n", Lf(read.GetProperty("text").GetString()!));
        var listedAttachment = read.GetProperty("attachments").EnumerateArray().Single();
        Assert.Equal("data.bin", listedAttachment.GetProperty("fileName").GetString());
        Assert.Equal(payload.Length, listedAttachment.GetProperty("size").GetInt64());
        var (rawExit, raw) = await MailAsync(carol, null, "read", uid, "--raw", "--peek");
        Assert.True(rawExit == 0, raw);
        Assert.EndsWith(sentCopy, Lf(raw), StringComparison.Ordinal);

        // Reply through Postfix to bob; Dovecot records \Answered on carol's copy.
        await JsonAsync(carol, "Thanks, got it.\n", "reply", uid);
        var replyFile = Assert.Single(await fixture.WaitForMaildirAsync("bob", 1, Patience));
        using (var reply = MimeMessage.Load(replyFile))
        {
            Assert.Equal("Re: Data via Postfix", reply.Subject);
            Assert.Equal(messageId, reply.InReplyTo);
            Assert.Contains("Thanks, got it.", reply.TextBody, StringComparison.Ordinal);
        }

        listed = (await JsonAsync(carol, null, "list")).EnumerateArray().Single();
        Assert.Contains("answered", listed.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        // POP3 over implicit TLS into a local Maildir: the message with its attachment arrives,
        // and Dovecot no longer has it.
        var maildir = Path.Combine(carol.Home, "Maildir");
        var fetched = await JsonAsync(carol, null, "fetch", "--maildir", maildir);
        Assert.Equal(1, fetched.GetProperty("downloaded").GetInt32());
        var local = Assert.Single(Directory.GetFiles(Path.Combine(maildir, "new")));
        Assert.EndsWith(sentCopy, Lf(await File.ReadAllTextAsync(local)), StringComparison.Ordinal);
        using (var message = MimeMessage.Load(local))
        {
            var part = Assert.IsType<MimePart>(message.Attachments.Single());
            using var content = new MemoryStream();
            await part.Content!.DecodeToAsync(content);
            Assert.Equal(payload, content.ToArray());
        }

        Assert.Empty(fixture.MaildirFiles("carol"));
        fetched = await JsonAsync(carol, null, "fetch", "--maildir", maildir);
        Assert.Equal(0, fetched.GetProperty("downloaded").GetInt32());
    }

    [RequiresToolAsRootFact("postfix", "dovecot")]
    public async Task Sendmail_interface_submits_a_local_programs_message_through_Postfix()
    {
        var leo = await AccountAsync("leo");
        var (exit, output) = await PochtaAsync(leo, "To: kim@postfix.test\nSubject: from cron via postfix\n\nnightly job ok\n", ["sendmail", "-t", "-i"]);
        Assert.True(exit == 0, output + fixture.Diagnostics());

        var file = Assert.Single(await fixture.WaitForMaildirAsync("kim", 1, Patience));
        using var message = MimeMessage.Load(file);
        Assert.Equal("from cron via postfix", message.Subject);
        Assert.Equal("leo@postfix.test", message.From.Mailboxes.Single().Address);
        Assert.NotNull(message.MessageId);
        Assert.Equal("nightly job ok\n", Lf(message.TextBody ?? string.Empty));

        // Postfix's submission service saw an authenticated client (Dovecot SASL).
        Assert.Contains("sasl_username=leo@postfix.test", await File.ReadAllTextAsync(fixture.PostfixLog), StringComparison.Ordinal);
    }
}