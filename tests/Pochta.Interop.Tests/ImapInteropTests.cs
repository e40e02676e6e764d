using System.Text;
using System.Text.Json;

using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;

using MimeKit;

namespace Pochta.Interop.Tests;

/// <summary>Real IMAP clients against the real host: MailKit ImapClient and Python imaplib.</summary>
public sealed class ImapInteropTests(ImapFixture fixture) : IClassFixture<ImapFixture>
{
    private const string Password = "correct horse battery staple";

    private async Task<ImapClient> ConnectAsync(string user, bool implicitTls = false)
    {
        var client = new ImapClient { ServerCertificateValidationCallback = (_, certificate, _, _) => fixture.IsServerCertificate(certificate) };
        await client.ConnectAsync("127.0.0.1", implicitTls ? fixture.ImapsPort : fixture.ImapPort, implicitTls ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls);
        await client.AuthenticateAsync(user, Password);
        return client;
    }

    [Fact]
    public async Task MailKit_folders_fetch_body_parts_and_search()
    {
        var user = await fixture.NewUserAsync(Password);
        await fixture.DeliverAsync(user, "INBOX", ImapFixture.Message("first", "Hello there.\r\n"), ImapFixture.Message("second", "Needle in a haystack.\r\n"));
        using var client = await ConnectAsync(user);
        Assert.True(client.IsSecure);
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.IMAP4rev1));
        var folders = await client.GetFoldersAsync(client.PersonalNamespaces[0]);
        Assert.Contains(folders, f => f.Attributes.HasFlag(FolderAttributes.Sent) && f.FullName == "Sent");
        Assert.Contains(folders, f => f.Attributes.HasFlag(FolderAttributes.Trash));

        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.Equal(2, inbox.Count);
        var summaries = await inbox.FetchAsync(0, -1, MessageSummaryItems.Full | MessageSummaryItems.UniqueId | MessageSummaryItems.BodyStructure | MessageSummaryItems.PreviewText);
        Assert.Equal(["first", "second"], summaries.Select(s => s.Envelope!.Subject));
        var text = (TextPart)await inbox.GetBodyPartAsync(summaries[1].UniqueId, summaries[1].TextBody!);
        Assert.Equal("Needle in a haystack.", text.Text.Trim());
        Assert.Equal([summaries[1].UniqueId], await inbox.SearchAsync(SearchQuery.BodyContains("needle")));
        Assert.Equal([summaries[0].UniqueId], await inbox.SearchAsync(SearchQuery.NotSeen.And(SearchQuery.SubjectContains("first"))));

        var personal = client.GetFolder(client.PersonalNamespaces[0]);
        var work = await personal.CreateAsync("Work", true) ?? throw new InvalidOperationException();
        await work.RenameAsync(personal, "Jobs");
        Assert.Contains(await personal.GetSubfoldersAsync(false), f => f.Name == "Jobs");
        await work.SubscribeAsync();
        await work.DeleteAsync();
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task MailKit_uidplus_move_append_store_expunge_over_implicit_TLS()
    {
        var user = await fixture.NewUserAsync(Password);
        await fixture.DeliverAsync(user, "INBOX", ImapFixture.Message("a", "1\r\n"), ImapFixture.Message("b", "2\r\n"), ImapFixture.Message("c", "3\r\n"));
        using var client = await ConnectAsync(user, implicitTls: true);
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.UidPlus));
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Move));
        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var archive = await client.GetFolderAsync("Archive");
        var moved = await inbox.MoveToAsync(new UniqueId(1), archive);
        Assert.Equal(new UniqueId(1), moved);
        Assert.Equal(2, inbox.Count);

        var appended = await archive.AppendAsync(MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(ImapFixture.Message("appended", "4\r\n")))), MessageFlags.Seen);
        Assert.Equal(new UniqueId(2), appended);

        await inbox.AddFlagsAsync(new UniqueId(2), MessageFlags.Deleted, true);
        await inbox.ExpungeAsync([new UniqueId(2)]);
        Assert.Equal(1, inbox.Count);
        await archive.StatusAsync(StatusItems.Count | StatusItems.Unread | StatusItems.UidNext | StatusItems.Size);
        Assert.Equal(2, archive.Count);
        Assert.Equal(1, archive.Unread);
        Assert.Equal(new UniqueId(3), archive.UidNext);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task MailKit_idle_sees_delivery_and_condstore_qresync_compress_sort_thread()
    {
        var user = await fixture.NewUserAsync(Password);
        var root = ImapFixture.Message("topic", "root\r\n");
        var rootId = root.Split("Message-ID: ")[1].Split("\r\n")[0];
        await fixture.DeliverAsync(user, "INBOX", root);
        using var client = await ConnectAsync(user);
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Compress));
        await client.CompressAsync();
        await client.EnableQuickResyncAsync();
        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var modseq = inbox.HighestModSeq;

        using (var done = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            inbox.CountChanged += (_, _) => done.Cancel();
            var idle = client.IdleAsync(done.Token);
            await Task.Delay(300);
            await fixture.DeliverAsync(user, "INBOX", ImapFixture.Message("Re: topic", "reply\r\n", "zz@example.net", rootId));
            await idle;
        }

        Assert.Equal(2, inbox.Count);
        await inbox.AddFlagsAsync(0, MessageFlags.Flagged, true);
        var changed = await inbox.FetchAsync(0, -1, modseq, MessageSummaryItems.Flags | MessageSummaryItems.UniqueId | MessageSummaryItems.ModSeq);
        Assert.Equal(2, changed.Count);
        Assert.True(changed[0].Flags!.Value.HasFlag(MessageFlags.Flagged));

        var sorted = await inbox.SortAsync(SearchQuery.All, [OrderBy.ReverseFrom]);
        Assert.Equal([new UniqueId(2), new UniqueId(1)], sorted);
        var threads = await inbox.ThreadAsync(ThreadingAlgorithm.References, SearchQuery.All);
        var thread = Assert.Single(threads);
        Assert.Equal(new UniqueId(1), thread.UniqueId);
        Assert.Equal(new UniqueId(2), Assert.Single(thread.Children).UniqueId);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task Python_imaplib_login_select_search_fetch_store_expunge()
    {
        var user = await fixture.NewUserAsync(Password);
        await fixture.DeliverAsync(user, "INBOX", ImapFixture.Message("py one", "first\r\n"), ImapFixture.Message("py two", "second\r\n"));
        var dir = Directory.CreateTempSubdirectory("pochta-imaplib");
        try
        {
            var script = Path.Combine(dir.FullName, "imap.py");
            await File.WriteAllTextAsync(script, ImaplibScript);
            var (exit, output) = await InteropServerFixture.RunAsync(
                "python3",
                [script, "127.0.0.1", fixture.ImapsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), fixture.CertificateSha256],
                dir.FullName,
                stdin: user + "\n" + Password + "\n");
            Assert.True(exit == 0, output);
            using var json = JsonDocument.Parse(output.Split('\n').First(l => l.StartsWith('{')));
            var r = json.RootElement;
            Assert.Contains("IMAP4REV2", r.GetProperty("capabilities").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("2", r.GetProperty("exists").GetString());
            Assert.Equal("2", r.GetProperty("search").GetString());
            Assert.Contains("second", r.GetProperty("body").GetString(), StringComparison.Ordinal);
            Assert.Equal(1, r.GetProperty("remaining").GetInt32());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>imaplib client over implicit TLS, certificate pinned by SHA-256.</summary>
    private const string ImaplibScript = """
        import hashlib, imaplib, json, ssl, sys
        host, port, pin = sys.argv[1:4]
        user = sys.stdin.readline().rstrip("\n")
        password = sys.stdin.readline().rstrip("\n")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # pinned below
        m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx, timeout=30)
        der = m.sock.getpeercert(binary_form=True)
        assert hashlib.sha256(der).hexdigest() == pin, "certificate mismatch"
        caps = list(m.capabilities)
        m.login(user, password)
        typ, data = m.select("INBOX")
        assert typ == "OK", data
        exists = data[0].decode()
        typ, found = m.search(None, "SUBJECT", '"py two"')
        assert typ == "OK", found
        typ, msg = m.fetch(found[0].split()[0], "(BODY.PEEK[TEXT] FLAGS)")
        assert typ == "OK", msg
        body = msg[0][1].decode()
        typ, _ = m.store("1", "+FLAGS", "(\\Deleted)")
        assert typ == "OK"
        typ, _ = m.expunge()
        assert typ == "OK"
        typ, data = m.search(None, "ALL")
        remaining = len(data[0].split())
        m.close()
        m.logout()
        print(json.dumps({"capabilities": caps, "exists": exists, "search": found[0].decode(), "body": body, "remaining": remaining}))
        """;
}