using System.Text;
using System.Text.Json;

using MailKit.Net.Pop3;
using MailKit.Security;

using Pochta.Testing;

using static Pochta.Interop.Tests.InteropServerFixture;
using static Pochta.Interop.Tests.Pop3Fixture;

namespace Pochta.Interop.Tests;

/// <summary>Real POP3 clients against the real host: MailKit, Python poplib, fetchmail, getmail6.</summary>
public sealed class Pop3InteropTests(Pop3Fixture fixture) : IClassFixture<Pop3Fixture>
{
    private const string Password = "correct horse battery staple";

    [Fact]
    public async Task MailKit_downloads_over_STLS_byte_exact_and_deletes()
    {
        var user = await fixture.NewUserAsync(Password);
        string[] sent = [Message("one", "hello\r\n"), Message("two", ".starts with a dot\r\n..two dots\r\n.\r\nend\r\n"), Message("large", LargeBody())];
        await fixture.DeliverAsync(user, sent);

        using var client = new Pop3Client { ServerCertificateValidationCallback = (_, certificate, _, _) => fixture.IsServerCertificate(certificate) };
        await client.ConnectAsync("127.0.0.1", fixture.Pop3Port, SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.UIDL));
        Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.Top));
        Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.Pipelining));
        await client.AuthenticateAsync(user, Password);
        Assert.Equal(sent.Length, client.Count);
        for (var i = 0; i < sent.Length; i++)
        {
            await using var stream = await client.GetStreamAsync(i);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(sent[i], Encoding.UTF8.GetString(copy.ToArray()));
            Assert.Equal(Encoding.UTF8.GetByteCount(sent[i]), await client.GetMessageSizeAsync(i));
        }

        var headers = await client.GetMessageHeadersAsync(1);
        Assert.Equal("two", headers["Subject"]);
        await client.DeleteMessagesAsync([0, 1, 2]);
        await client.DisconnectAsync(quit: true);
        Assert.Empty(await fixture.InboxAsync(user));
    }

    [Fact]
    public async Task MailKit_over_implicit_TLS_leaves_mail_on_server_and_UIDL_never_downloads_twice()
    {
        var user = await fixture.NewUserAsync(Password);
        await fixture.DeliverAsync(user, Message("a", "1\r\n"), Message("b", "2\r\n"));
        var downloaded = new Dictionary<string, string>();

        async Task<int> SyncAsync()
        {
            using var client = new Pop3Client { ServerCertificateValidationCallback = (_, certificate, _, _) => fixture.IsServerCertificate(certificate) };
            await client.ConnectAsync("127.0.0.1", fixture.Pop3sPort, SecureSocketOptions.SslOnConnect);
            await client.AuthenticateAsync(user, Password);
            var uids = await client.GetMessageUidsAsync();
            var fresh = 0;
            for (var i = 0; i < uids.Count; i++)
            {
                if (downloaded.ContainsKey(uids[i]))
                {
                    continue;
                }

                var message = await client.GetMessageAsync(i);
                downloaded[uids[i]] = message.Subject ?? "";
                fresh++;
            }

            await client.DisconnectAsync(quit: true);
            return fresh;
        }

        Assert.Equal(2, await SyncAsync());
        Assert.Equal(0, await SyncAsync());
        await fixture.DeliverAsync(user, Message("c", "3\r\n"));
        Assert.Equal(1, await SyncAsync());
        Assert.Equal(["a", "b", "c"], downloaded.Values.Order());
        Assert.Equal(3, (await fixture.InboxAsync(user)).Count);
    }

    [Fact]
    public async Task Python_poplib_with_STLS_and_with_POP3S_downloads_and_deletes()
    {
        var user = await fixture.NewUserAsync(Password);
        string[] sent = [Message("p1", "alpha\r\n.beta\r\n"), Message("p2", LargeBody())];
        await fixture.DeliverAsync(user, sent);
        using var dir = new Pop3TempDirectory();
        var script = Path.Combine(dir.Path, "pop.py");
        await File.WriteAllTextAsync(script, PoplibScript);

        // STLS on the plain port, keeping the mail; then POP3S on 995, deleting it.
        var stls = await RunPoplibAsync(script, dir.Path, "stls", fixture.Pop3Port, user, delete: false);
        Assert.Equal(sent, stls.Messages);
        Assert.Contains("STLS", stls.Capabilities);
        Assert.Equal(2, (await fixture.InboxAsync(user)).Count);

        var ssl = await RunPoplibAsync(script, dir.Path, "ssl", fixture.Pop3sPort, user, delete: true);
        Assert.Equal(sent, ssl.Messages);
        Assert.Equal(stls.Uids, ssl.Uids);
        Assert.DoesNotContain("STLS", ssl.Capabilities);
        Assert.Empty(await fixture.InboxAsync(user));
    }

    [RequiresToolFact("fetchmail")]
    public async Task Fetchmail_downloads_over_STLS_into_local_files_and_deletes_on_the_server()
    {
        var user = await fixture.NewUserAsync(Password);
        await fixture.DeliverAsync(user, Message("f1", "first\r\n"), Message("f2", ".dotted\r\nsecond\r\n"), Message("f3", LargeBody()));
        using var dir = new Pop3TempDirectory();
        var output = Path.Combine(dir.Path, "out");
        Directory.CreateDirectory(output);
        var rc = Path.Combine(dir.Path, "fetchmailrc");
        await File.WriteAllTextAsync(rc, $"""
            set no bouncemail
            poll localhost via 127.0.0.1 service {fixture.Pop3Port} protocol pop3 auth password timeout 60
              user '{user}' there with password '{Password}'
              sslproto 'tls1.2+' sslcertck sslcertfile '{fixture.CertificatePath}' sslcommonname 'localhost'
              fetchall nokeep
              mda "cat > {output}/msg.$$"

            """);
        if (!OperatingSystem.IsWindows())
        {
            // fetchmail refuses a run control file that others can read.
            File.SetUnixFileMode(rc, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var (exit, log) = await RunAsync(
            "fetchmail",
            ["-N", "-v", "--nosyslog", "-f", rc, "--pidfile", Path.Combine(dir.Path, "pid"), "-i", Path.Combine(dir.Path, "ids")],
            dir.Path,
            new Dictionary<string, string> { ["HOME"] = dir.Path, ["FETCHMAILHOME"] = dir.Path });
        Assert.True(exit == 0, log);
        Assert.Contains("STLS", log, StringComparison.Ordinal);
        // fetchmail hands the MDA LF line ends and prepends its Received field.
        var files = Directory.GetFiles(output).Select(f => File.ReadAllText(f).Replace("\r\n", "\n", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, files.Count);
        Assert.Contains(files, f => f.Contains("Subject: f2", StringComparison.Ordinal) && f.Contains("\n\n.dotted\nsecond\n", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains("Subject: f3", StringComparison.Ordinal) && f.Contains(LargeBody().Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.Empty(await fixture.InboxAsync(user));
    }

    [RequiresToolFact("getmail")]
    public async Task Getmail_downloads_over_POP3S_into_a_Maildir_and_deletes_on_the_server()
    {
        var user = await fixture.NewUserAsync(Password);
        await fixture.DeliverAsync(user, Message("g1", "first\r\n"), Message("g2", ".dotted\r\n"));
        using var dir = new Pop3TempDirectory();
        var maildir = CreateMaildir(dir.Path);
        var rc = await WriteGetmailRcAsync(dir.Path, user, maildir, delete: true, readAll: true);
        var (exit, log) = await RunGetmailAsync(dir.Path, rc);
        Assert.True(exit == 0, log);
        var files = Directory.GetFiles(Path.Combine(maildir, "new")).Select(f => File.ReadAllText(f).Replace("\r\n", "\n", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, files.Count);
        Assert.Contains(files, f => f.Contains("Subject: g2", StringComparison.Ordinal) && f.Contains("\n\n.dotted\n", StringComparison.Ordinal));
        Assert.Empty(await fixture.InboxAsync(user));
    }

    [RequiresToolFact("getmail")]
    public async Task Getmail_leaving_mail_on_the_server_uses_UIDL_and_never_downloads_twice()
    {
        var user = await fixture.NewUserAsync(Password);
        await fixture.DeliverAsync(user, Message("k1", "1\r\n"), Message("k2", "2\r\n"));
        using var dir = new Pop3TempDirectory();
        var maildir = CreateMaildir(dir.Path);
        var rc = await WriteGetmailRcAsync(dir.Path, user, maildir, delete: false, readAll: false);
        int Count() => Directory.GetFiles(Path.Combine(maildir, "new")).Length;

        var first = await RunGetmailAsync(dir.Path, rc);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Equal(2, Count());
        var second = await RunGetmailAsync(dir.Path, rc);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Equal(2, Count());
        await fixture.DeliverAsync(user, Message("k3", "3\r\n"));
        var third = await RunGetmailAsync(dir.Path, rc);
        Assert.True(third.ExitCode == 0, third.Output);
        Assert.Equal(3, Count());
        Assert.Equal(3, (await fixture.InboxAsync(user)).Count);
    }

    private static bool RunningAsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";

    private static string CreateMaildir(string root)
    {
        var maildir = Path.Combine(root, "Maildir");
        foreach (var sub in new[] { "cur", "new", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(maildir, sub));
            if (!OperatingSystem.IsWindows() && RunningAsRoot)
            {
                // getmail refuses to deliver as root: it delivers as "nobody" (see the rc file).
                File.SetUnixFileMode(Path.Combine(maildir, sub), (UnixFileMode)0x1FF);
            }
        }

        return maildir + "/";
    }

    private async Task<string> WriteGetmailRcAsync(string dir, string user, string maildir, bool delete, bool readAll)
    {
        var rc = Path.Combine(dir, "getmailrc");
        await File.WriteAllTextAsync(rc, $"""
            [retriever]
            type = SimplePOP3SSLRetriever
            server = 127.0.0.1
            port = {fixture.Pop3sPort}
            username = {user}
            password = {Password}
            ssl_fingerprints = ('{fixture.CertificateSha256}',)

            [destination]
            type = Maildir
            path = {maildir}
            {(RunningAsRoot ? "user = nobody" : "")}

            [options]
            verbose = 2
            read_all = {readAll}
            delete = {delete}
            message_log = {Path.Combine(dir, "getmail.log")}

            """);
        return rc;
    }

    private static Task<(int ExitCode, string Output)> RunGetmailAsync(string dir, string rc) =>
        RunAsync("getmail", ["--getmaildir", dir, "--rcfile", rc], dir, new Dictionary<string, string> { ["HOME"] = dir });

    private async Task<PoplibResult> RunPoplibAsync(string script, string dir, string mode, int port, string user, bool delete)
    {
        var (exit, output) = await RunAsync(
            "python3",
            [script, mode, "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), fixture.CertificateSha256, delete ? "delete" : "keep"],
            dir,
            stdin: user + "\n" + Password + "\n");
        Assert.True(exit == 0, output);
        var result = JsonSerializer.Deserialize<PoplibResult>(output.Split('\n').First(l => l.StartsWith('{')), JsonOptions)!;
        return result with { Messages = [.. result.Messages.Select(m => Encoding.UTF8.GetString(Convert.FromBase64String(m)))] };
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private sealed record PoplibResult(string[] Capabilities, string[] Uids, string[] Messages);

    /// <summary>poplib client: pins the certificate by SHA-256, logs in with USER/PASS over TLS,
    /// retrieves every message (poplib undoes byte-stuffing), optionally deletes, QUITs.</summary>
    private const string PoplibScript = """
        import base64, hashlib, json, poplib, ssl, sys
        mode, host, port, pin, action = sys.argv[1:6]
        user = sys.stdin.readline().rstrip("\n")
        password = sys.stdin.readline().rstrip("\n")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the certificate is pinned below instead
        if mode == "stls":
            m = poplib.POP3(host, int(port), timeout=30)
            capa = m.capa()
            m.stls(context=ctx)
        else:
            m = poplib.POP3_SSL(host, int(port), context=ctx, timeout=30)
            capa = m.capa()
        der = m.sock.getpeercert(binary_form=True)
        if hashlib.sha256(der).hexdigest() != pin:
            sys.exit("certificate mismatch")
        m.user(user)
        m.pass_(password)
        count, size = m.stat()
        uids = [line.decode().split(" ")[1] for line in m.uidl()[1]]
        messages = []
        for i in range(1, count + 1):
            resp, lines, octets = m.retr(i)
            messages.append(base64.b64encode(b"".join(l + b"\r\n" for l in lines)).decode())
            if action == "delete":
                m.dele(i)
        m.quit()
        print(json.dumps({"capabilities": sorted(capa.keys()), "uids": uids, "messages": messages}))
        """;
}