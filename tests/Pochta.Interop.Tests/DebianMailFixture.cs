using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using Pochta.Delivery.Outbound;
using Pochta.Sasl;
using Pochta.Storage;
using Pochta.Testing;

namespace Pochta.Interop.Tests;

[CollectionDefinition(Name)]
public sealed class DebianMailCollection : ICollectionFixture<DebianMailFixture>
{
    public const string Name = "Postfix and Dovecot";
}

/// <summary>
/// Pochta (in-process, domain <c>example.test</c>) next to a private Postfix and a private
/// Dovecot from Debian's packages (domain <c>postfix.test</c>), as bench/scripts/side-by-side.sh
/// runs them: their own configuration, queue and state under one scratch directory, loopback
/// high ports picked free, nothing of the system's instances touched.
/// <list type="bullet">
/// <item>Postfix: an MX listener (STARTTLS offered, unknown users refused at RCPT, virtual(8)
/// delivery into Maildirs owned by nobody) and a submission listener (STARTTLS required, AUTH
/// through Dovecot's SASL socket); <c>example.test</c> is routed to Pochta's MX port;
/// <c>sendmail</c> injects through its own queue.</item>
/// <item>Dovecot: IMAP (STARTTLS) and POP3 (implicit TLS) on the same Maildirs, users from a
/// passwd-file, and the auth socket Postfix uses.</item>
/// <item>Pochta: its transport map sends <c>postfix.test</c> to the Postfix MX port; DKIM keys
/// for <c>example.test</c>.</item>
/// </list>
/// Everything is skipped (not started) where the programs or root are missing; the tests are
/// marked <see cref="RequiresToolAsRootFactAttribute"/>.
/// </summary>
public sealed class DebianMailFixture : IAsyncLifetime
{
    public const string PostfixDomain = "postfix.test";
    public const string PochtaDomain = "example.test";

    /// <summary>A second Pochta domain that Postfix reaches through Pochta's submission port
    /// with SASL, as a smart host (relayhost) setup does.</summary>
    public const string SubmissionDomain = "submit.test";

    /// <summary>Every account on both sides uses it (no spaces: it goes into configuration files).</summary>
    public const string Password = "debian-mail-pw-1";

    /// <summary>Mailboxes Postfix accepts and Dovecot serves; each test uses its own.</summary>
    public static readonly string[] PostfixUsers = ["bob", "carol", "dave", "frank", "heidi", "kim", "leo"];

    public static readonly string[] PochtaUsers = ["alice", "erin", "grace"];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private DaemonProcess? _postfix;
    private DaemonProcess? _dovecot;
    private PochtaTestServer? _pochta;

    public static bool Supported =>
        DebianDaemons.IsRoot && new[] { "postfix", "postconf", "dovecot" }.All(Tool.Exists)
        && File.Exists("/usr/lib/postfix/sbin/master") && File.Exists("/usr/lib/dovecot/imap") && File.Exists("/usr/lib/dovecot/pop3");

    public PochtaTestServer Pochta => _pochta ?? throw new InvalidOperationException("Pochta is not running (Postfix/Dovecot or root missing)");

    public string Root { get; private set; } = "";

    public string MailRoot => Path.Combine(Root, "mail");

    public string PostfixConfig => Path.Combine(Root, "postfix", "etc");

    public string PostfixLog => Path.Combine(Root, "postfix", "maillog");

    public string DovecotLog => Path.Combine(Root, "dovecot", "dovecot.log");

    public int PostfixSmtpPort { get; private set; }

    public int PostfixSubmissionPort { get; private set; }

    public int DovecotImapPort { get; private set; }

    public int DovecotPop3sPort { get; private set; }

    /// <summary>The self-signed certificate Postfix and Dovecot present (localhost, 127.0.0.1).</summary>
    public string CertificatePath => Path.Combine(Root, "tls", "cert.pem");

    public string PochtaCertificatePath => Path.Combine(Pochta.DataDirectory, "tls", "cert.pem");

    /// <summary>The DKIM keys Pochta signs example.test mail with.</summary>
    public IReadOnlyList<DkimKeyInfo> DkimKeys { get; private set; } = [];

    public async Task InitializeAsync()
    {
        if (!Supported)
        {
            return;
        }

        Root = DebianDaemons.CreateScratch("pochta-debian-");
        PostfixSmtpPort = DebianDaemons.FreePort();
        PostfixSubmissionPort = DebianDaemons.FreePort();
        DovecotImapPort = DebianDaemons.FreePort();
        DovecotPop3sPort = DebianDaemons.FreePort();
        Directory.CreateDirectory(Path.GetDirectoryName(CertificatePath)!);
        DebianDaemons.WriteTestCertificate(CertificatePath, Path.Combine(Root, "tls", "key.pem"));
        Directory.CreateDirectory(MailRoot);
        await DebianDaemons.ChownAsync("nobody:nogroup", MailRoot);

        await StartPochtaAsync();
        await StartDovecotAsync();
        await StartPostfixAsync();
    }

    public async Task DisposeAsync()
    {
        if (_postfix is not null)
        {
            await _postfix.DisposeAsync();
        }

        if (_dovecot is not null)
        {
            await _dovecot.DisposeAsync();
        }

        if (_pochta is not null)
        {
            await _pochta.DisposeAsync();
        }

        DebianDaemons.DeleteScratch(Root);
    }

    /// <summary>A user's Maildir as Postfix's virtual(8) writes it and Dovecot reads it.</summary>
    public string Maildir(string user) => Path.Combine(MailRoot, PostfixDomain, user, "Maildir");

    /// <summary>The message files (new and cur) of a Postfix/Dovecot user's INBOX.</summary>
    public IReadOnlyList<string> MaildirFiles(string user, string? folder = null)
    {
        var root = folder is null ? Maildir(user) : Path.Combine(Maildir(user), "." + folder);
        return [.. new[] { "new", "cur" }.Select(d => Path.Combine(root, d)).Where(Directory.Exists).SelectMany(Directory.GetFiles).Order(StringComparer.Ordinal)];
    }

    /// <summary>Waits until a Postfix/Dovecot user's INBOX holds at least <paramref name="count"/> messages.</summary>
    public Task<IReadOnlyList<string>> WaitForMaildirAsync(string user, int count, TimeSpan timeout) =>
        DebianDaemons.WaitForAsync(
            () => Task.FromResult(MaildirFiles(user) is { } files && files.Count >= count ? files : null),
            timeout,
            Diagnostics);

    /// <summary>Waits until a Pochta mailbox holds at least <paramref name="count"/> messages.</summary>
    public Task<IReadOnlyList<byte[]>> WaitForPochtaAsync(string address, int count, TimeSpan timeout, string mailbox = "INBOX") =>
        DebianDaemons.WaitForAsync(
            async () => await Pochta.ReadMailboxAsync(address, mailbox) is { } messages && messages.Count >= count ? messages : null,
            timeout,
            Diagnostics);

    /// <summary>Injects a message with Postfix's sendmail(1) into the private Postfix's queue.</summary>
    public async Task SendmailAsync(string sender, IEnumerable<string> recipients, string message)
    {
        var (exit, output) = await InteropServerFixture.RunAsync(
            "/usr/sbin/sendmail", ["-C", PostfixConfig, "-f", sender, "-i", "--", .. recipients], Root, stdin: message);
        Assert.True(exit == 0, "sendmail failed: " + output + Diagnostics());
    }

    public bool IsPochtaCertificate(X509Certificate? certificate)
    {
        using var pinned = X509Certificate2.CreateFromPem(File.ReadAllText(PochtaCertificatePath));
        return certificate is not null && SHA256.HashData(certificate.GetRawCertData()).AsSpan().SequenceEqual(SHA256.HashData(pinned.RawData));
    }

    /// <summary>The ends of both daemons' logs and what Pochta has queued, for failure messages.</summary>
    public string Diagnostics()
    {
        static string Tail(string path) => File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(25)) : "(no " + path + ")";
        return $"\n--- postfix maillog:\n{Tail(PostfixLog)}\n--- dovecot log:\n{Tail(DovecotLog)}\n--- postfix master:\n{_postfix?.Output}\n--- dovecot master:\n{_dovecot?.Output}";
    }

    private async Task StartPochtaAsync()
    {
        var options = new PochtaTestServerOptions();
        options.Configuration["Server:HostName"] = "localhost";
        options.Configuration[$"Outbound:TransportMap:{PostfixDomain}"] = $"127.0.0.1:{PostfixSmtpPort.ToString(CultureInfo.InvariantCulture)}";
        _pochta = await PochtaTestServer.StartAsync(options);
        var directory = Pochta.Store.Directory;
        await directory.AddDomainAsync(PochtaDomain, CancellationToken.None);
        foreach (var user in PochtaUsers)
        {
            // Low PBKDF2 work keeps logins cheap on a shared CPU.
            await directory.AddAccountAsync($"{user}@{PochtaDomain}", PasswordCredential.Create(Password, 4096), 0, CancellationToken.None);
        }

        await directory.AddDomainAsync(SubmissionDomain, CancellationToken.None);
        await directory.AddAccountAsync($"ivan@{SubmissionDomain}", PasswordCredential.Create(Password, 4096), 0, CancellationToken.None);

        var dkimDirectory = Pochta.Services.GetRequiredService<IOptions<OutboundOptions>>().Value.DkimDirectory
            ?? throw new InvalidOperationException("Outbound:DkimDirectory is not set");
        DkimKeys = await new DkimKeyStore(dkimDirectory, TimeProvider.System).EnsureKeysAsync(PochtaDomain, CancellationToken.None);
    }

    private async Task StartDovecotAsync()
    {
        var dc = Path.Combine(Root, "dovecot");
        Directory.CreateDirectory(Path.Combine(dc, "run"));
        Directory.CreateDirectory(Path.Combine(dc, "state"));
        var users = Path.Combine(dc, "users");
        await File.WriteAllLinesAsync(users, PostfixUsers.Select(u => $"{u}@{PostfixDomain}:{{PLAIN}}{Password}"));
        await DebianDaemons.ChownAsync("root:dovecot", users);
        File.SetUnixFileMode(users, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var config = Path.Combine(dc, "dovecot.conf");
        await File.WriteAllTextAsync(config, $$"""
            # Private test instance: loopback only, passwd-file users, the Maildirs Postfix writes.
            base_dir = {{dc}}/run
            state_dir = {{dc}}/state
            log_path = {{DovecotLog}}
            protocols = imap pop3
            listen = 127.0.0.1
            ssl = required
            ssl_cert = <{{CertificatePath}}
            ssl_key = <{{Root}}/tls/key.pem
            auth_mechanisms = plain login
            first_valid_uid = 65534
            mail_location = maildir:{{MailRoot}}/%d/%n/Maildir
            namespace inbox {
              inbox = yes
              separator = /
              mailbox Sent {
                special_use = \Sent
                auto = create
              }
              mailbox Trash {
                special_use = \Trash
                auto = create
              }
            }
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {{users}}
            }
            userdb {
              driver = static
              args = uid=65534 gid=65534 home={{MailRoot}}/%d/%n
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = {{DovecotImapPort}}
              }
              inet_listener imaps {
                port = 0
              }
            }
            service pop3-login {
              inet_listener pop3 {
                port = 0
              }
              inet_listener pop3s {
                address = 127.0.0.1
                port = {{DovecotPop3sPort}}
                ssl = yes
              }
            }
            service auth {
              unix_listener {{dc}}/auth-postfix {
                mode = 0660
                user = postfix
                group = postfix
              }
            }
            """);
        _dovecot = DaemonProcess.Start("dovecot", ["-F", "-c", config]);
        await DebianDaemons.WaitForPortAsync(DovecotImapPort, StartTimeout, Diagnostics);
        await DebianDaemons.WaitForPortAsync(DovecotPop3sPort, StartTimeout, Diagnostics);
    }

    private async Task StartPostfixAsync()
    {
        var pf = Path.Combine(Root, "postfix");
        var etc = PostfixConfig;
        Directory.CreateDirectory(etc);
        Directory.CreateDirectory(Path.Combine(pf, "queue"));
        Directory.CreateDirectory(Path.Combine(pf, "data"));
        await DebianDaemons.ChownAsync("postfix", Path.Combine(pf, "data"));
        var pochtaMx = Pochta.Port(Core.MailProtocol.Smtp).ToString(CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(Path.Combine(etc, "main.cf"), $"""
            # Private test instance: loopback only, virtual(8) Maildir delivery, example.test routed to Pochta.
            compatibility_level = 3.6
            queue_directory = {pf}/queue
            data_directory = {pf}/data
            command_directory = /usr/sbin
            daemon_directory = /usr/lib/postfix/sbin
            shlib_directory = /usr/lib/postfix
            meta_directory = /etc/postfix
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = mx.{PostfixDomain}
            mydomain = {PostfixDomain}
            myorigin = {PostfixDomain}
            mydestination =
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            relayhost =
            alias_maps =
            alias_database =
            local_recipient_maps =
            smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
            virtual_mailbox_domains = {PostfixDomain}
            virtual_mailbox_base = {MailRoot}
            virtual_mailbox_maps = texthash:{etc}/vmailbox
            virtual_uid_maps = static:65534
            virtual_gid_maps = static:65534
            virtual_minimum_uid = 100
            transport_maps = texthash:{etc}/transport
            smtpd_tls_cert_file = {CertificatePath}
            smtpd_tls_key_file = {Root}/tls/key.pem
            smtpd_tls_security_level = may
            smtpd_tls_received_header = yes
            smtpd_tls_loglevel = 1
            smtp_tls_security_level = may
            smtp_tls_loglevel = 1
            smtp_sasl_auth_enable = yes
            smtp_sasl_password_maps = texthash:{etc}/sasl_passwd
            smtp_sasl_tls_security_options = noanonymous
            smtpd_sasl_type = dovecot
            smtpd_sasl_path = {Root}/dovecot/auth-postfix
            maillog_file_prefixes = {Root}
            maillog_file = {PostfixLog}
            biff = no
            """);
        await File.WriteAllTextAsync(Path.Combine(etc, "master.cf"), $"""
            127.0.0.1:{PostfixSmtpPort} inet n - n - - smtpd
            127.0.0.1:{PostfixSubmissionPort} inet n - n - - smtpd -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_client_restrictions=permit_sasl_authenticated,reject -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
            pickup    unix  n - n 60 1 pickup
            cleanup   unix  n - n - 0 cleanup
            qmgr      unix  n - n 300 1 qmgr
            rewrite   unix  - - n - - trivial-rewrite
            bounce    unix  - - n - 0 bounce
            defer     unix  - - n - 0 bounce
            trace     unix  - - n - 0 bounce
            verify    unix  - - n - 1 verify
            flush     unix  n - n 1000? 0 flush
            proxymap  unix  - - n - - proxymap
            smtp      unix  - - n - - smtp
            relay     unix  - - n - - smtp
            showq     unix  n - n - - showq
            error     unix  - - n - - error
            retry     unix  - - n - - error
            discard   unix  - - n - - discard
            local     unix  - n n - - local
            virtual   unix  - n n - - virtual
            anvil     unix  - - n - 1 anvil
            scache    unix  - - n - 1 scache
            tlsmgr    unix  - - n 1000? 1 tlsmgr
            postlog   unix-dgram n - n - 1 postlogd
            """);
        await File.WriteAllLinesAsync(Path.Combine(etc, "vmailbox"), PostfixUsers.Select(u => $"{u}@{PostfixDomain} {PostfixDomain}/{u}/Maildir/"));
        var pochtaSubmission = Pochta.Port(Core.MailProtocol.Submission).ToString(CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(Path.Combine(etc, "transport"), $"{PochtaDomain} smtp:[127.0.0.1]:{pochtaMx}\n{SubmissionDomain} smtp:[127.0.0.1]:{pochtaSubmission}\n");

        // Postfix's SMTP client logs in to Pochta's submission port as grace (Cyrus SASL).
        var passwords = Path.Combine(etc, "sasl_passwd");
        await File.WriteAllTextAsync(passwords, $"[127.0.0.1]:{pochtaSubmission} grace@{PochtaDomain}:{Password}\n");
        File.SetUnixFileMode(passwords, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // "postfix check" creates the queue directories with their owners and modes.
        var (exit, output) = await InteropServerFixture.RunAsync("postfix", ["-c", etc, "check"], Root);
        if (exit != 0)
        {
            // Postfix reports to stderr only on a terminal: run it again under script(1) to see why.
            var (_, why) = await InteropServerFixture.RunAsync("script", ["-q", "-c", $"postfix -c {etc} check", "/dev/null"], Root);
            throw new InvalidOperationException($"postfix check failed: {output}{why}{Diagnostics()}");
        }

        // The master in the foreground (-d): a child of this process, stopped by SIGTERM.
        _postfix = DaemonProcess.Start("/usr/lib/postfix/sbin/master", ["-c", etc, "-d"]);
        await DebianDaemons.WaitForPortAsync(PostfixSmtpPort, StartTimeout, Diagnostics);
        await DebianDaemons.WaitForPortAsync(PostfixSubmissionPort, StartTimeout, Diagnostics);
    }
}