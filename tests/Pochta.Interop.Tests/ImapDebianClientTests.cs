using System.Globalization;
using System.Text;

using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;

using Pochta.Core;
using Pochta.Storage;
using Pochta.Testing;

using MessageFlags = Pochta.Core.MessageFlags;

namespace Pochta.Interop.Tests;

/// <summary>Debian's IMAP clients against the real host over implicit TLS with the server's
/// certificate pinned: mbsync (isync) syncing both ways, mutt reading and flagging.</summary>
public sealed class ImapDebianClientTests(ImapFixture fixture) : IClassFixture<ImapFixture>
{
    // No spaces or quotes: it goes into mbsync's and mutt's configuration files.
    private const string Password = "debian-clients-pw-1";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private async Task<List<MessageEntry>> EntriesAsync(string user, string mailbox = "INBOX")
    {
        var store = fixture.Server.Store;
        var account = (await store.Directory.FindAccountAsync(user, CancellationToken.None))!;
        var box = (await store.Mailboxes.FindMailboxAsync(account.Id, mailbox, CancellationToken.None))!;
        return [.. await store.Mailboxes.ListMessagesAsync(box.Id, CancellationToken.None)];
    }

    private async Task SetFlagsOverImapAsync(string user, uint uid, MessageFlags flags)
    {
        using var client = new ImapClient { ServerCertificateValidationCallback = (_, certificate, _, _) => fixture.IsServerCertificate(certificate) };
        await client.ConnectAsync("127.0.0.1", fixture.ImapsPort, SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync(user, Password);
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite);
        await client.Inbox.AddFlagsAsync(new UniqueId(uid), (MailKit.MessageFlags)(int)flags, true);
        await client.DisconnectAsync(true);
    }

    /// <summary>Subject line of a Maildir file (mbsync writes the server's bytes unchanged).</summary>
    private static string SubjectOf(string file) =>
        File.ReadLines(file).First(l => l.StartsWith("Subject: ", StringComparison.Ordinal))["Subject: ".Length..];

    /// <summary>The Maildir info flags of a file name ("...:2,FS" → "FS").</summary>
    private static string MaildirFlags(string file)
    {
        var name = Path.GetFileName(file);
        var info = name.LastIndexOf(":2,", StringComparison.Ordinal);
        return info < 0 ? string.Empty : name[(info + 3)..];
    }

    /// <summary>A synced Maildir file with LF line ends and without the X-TUID field mbsync adds
    /// to track messages it has written.</summary>
    private static string WithoutTuid(string text) =>
        string.Join('\n', text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Where(l => !l.StartsWith("X-TUID: ", StringComparison.Ordinal)));

    /// <summary>An mbsync channel "pochta": INBOX and Archive, both ways, with deletions, over
    /// implicit TLS trusting only the server's pinned certificate.</summary>
    private async Task WriteMbsyncConfigAsync(string config, string user, string maildir, string inbox, string authMechs)
    {
        await File.WriteAllTextAsync(config, $"""
            IMAPAccount pochta
            Host 127.0.0.1
            Port {fixture.ImapsPort.ToString(CultureInfo.InvariantCulture)}
            User {user}
            Pass {Password}
            SSLType IMAPS
            CertificateFile {fixture.CertificatePath}
            AuthMechs {authMechs}
            Timeout 15

            IMAPStore remote
            Account pochta

            MaildirStore local
            Path {maildir}/
            Inbox {inbox}
            SubFolders Verbatim

            Channel pochta
            Far :remote:
            Near :local:
            Patterns INBOX Archive
            Create Both
            Expunge Both
            SyncState *
            Sync All

            """);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static async Task RunMbsyncAsync(string config, string workingDirectory)
    {
        var (exit, output) = await InteropServerFixture.RunAsync("mbsync", ["-c", config, "pochta"], workingDirectory);
        Assert.True(exit == 0, "mbsync failed: " + output);
    }

    [RequiresToolFact("mbsync")]
    public async Task Mbsync_syncs_messages_and_flags_down_then_local_flags_deletion_and_new_message_up()
    {
        var user = await fixture.NewUserAsync(Password);
        await fixture.DeliverAsync(user, "INBOX",
            ImapFixture.Message("sync one", "first body\r\n"),
            ImapFixture.Message("sync two", "second body\r\n"),
            ImapFixture.Message("sync three", "third body\r\n"));
        await SetFlagsOverImapAsync(user, 2, MessageFlags.Seen | MessageFlags.Answered);

        var dir = DebianDaemons.CreateScratch("pochta-mbsync-");
        try
        {
            var maildir = Path.Combine(dir, "mail");
            Directory.CreateDirectory(maildir);
            var inbox = Path.Combine(maildir, "INBOX");
            var config = Path.Combine(dir, "mbsyncrc");

            // SCRAM-SHA-256 through Cyrus SASL, over implicit TLS, trusting only the pinned certificate.
            await WriteMbsyncConfigAsync(config, user, maildir, inbox, "SCRAM-SHA-256");

            // Server → local: every message with its bytes, the server's flags as Maildir flags.
            await RunMbsyncAsync(config, dir);
            var files = Directory.GetFiles(Path.Combine(inbox, "new")).Concat(Directory.GetFiles(Path.Combine(inbox, "cur"))).ToList();
            Assert.Equal(3, files.Count);
            var bySubject = files.ToDictionary(SubjectOf);
            Assert.Equal(["sync one", "sync three", "sync two"], bySubject.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("RS", MaildirFlags(bySubject["sync two"]));
            Assert.Equal(string.Empty, MaildirFlags(bySubject["sync one"]));
            var serverBytes = (await fixture.Server.ReadMailboxAsync(user)).Select(Encoding.UTF8.GetString).ToList();
            Assert.Equal(serverBytes[0].Replace("\r\n", "\n", StringComparison.Ordinal), WithoutTuid(await File.ReadAllTextAsync(bySubject["sync one"])));
            Assert.True(Directory.Exists(Path.Combine(maildir, "Archive", "cur")), "mbsync did not create the Archive folder locally");

            // Local changes: flag one, delete three, a new message written into the Maildir.
            var curDir = Path.Combine(inbox, "cur");
            static string Base(string file) => Path.GetFileName(file).Split(":2,")[0];
            File.Move(bySubject["sync one"], Path.Combine(curDir, Base(bySubject["sync one"]) + ":2,F"));
            File.Delete(bySubject["sync three"]);
            const string local = "From: me@example.net\r\nTo: someone@example.test\r\nSubject: written locally\r\nMessage-ID: <local-1@example.net>\r\nDate: Tue, 01 Dec 2026 13:00:00 +0000\r\n\r\nmade in the Maildir\r\n";
            await File.WriteAllTextAsync(Path.Combine(inbox, "new", "1796000000.local1.host"), local);

            // Local → server.
            await RunMbsyncAsync(config, dir);
            var entries = await EntriesAsync(user);
            Assert.Equal(3, entries.Count);
            Assert.Equal([1u, 2u, 4u], entries.Select(e => e.Uid));
            Assert.Equal(MessageFlags.Flagged, entries[0].Flags);
            Assert.Equal(MessageFlags.Seen | MessageFlags.Answered, entries[1].Flags);
            var stored = (await fixture.Server.ReadMailboxAsync(user)).Select(Encoding.UTF8.GetString).ToList();
            // mbsync APPENDs the file as it is, with its X-TUID tracking field inserted in the header.
            Assert.Contains("\r\nX-TUID: ", stored[2], StringComparison.Ordinal);
            Assert.Equal(local.Replace("\r\n", "\n", StringComparison.Ordinal), WithoutTuid(stored[2]));

            // A change made on the server afterwards comes down on the next run.
            await SetFlagsOverImapAsync(user, 4, MessageFlags.Seen);
            await RunMbsyncAsync(config, dir);
            var uploaded = Directory.GetFiles(inbox, "*", SearchOption.AllDirectories).Single(f => f.Contains("local1", StringComparison.Ordinal));
            Assert.Contains('S', MaildirFlags(uploaded));
        }
        finally
        {
            DebianDaemons.DeleteScratch(dir);
        }
    }

    /// <summary>Regression (found by this test): SCRAM announces the stored iteration count, and
    /// Cyrus SASL clients (mbsync, Postfix's smtp client) refuse any count above 65,536
    /// ("iteration-count is too big, refusing to compute"). Credentials made as
    /// <c>pochta user add</c> makes them (PasswordCredential.DefaultIterations) must be usable by
    /// mbsync's default AuthMechs, which picks SCRAM-SHA-256.</summary>
    [RequiresToolFact("mbsync")]
    public async Task Mbsync_default_mechanisms_log_in_to_an_account_made_like_pochta_user_add()
    {
        const string User = "cyrus-scram@example.test";
        await fixture.Server.CreateUserAsync(User, Password);
        await fixture.DeliverAsync(User, "INBOX", ImapFixture.Message("default strength", "body\r\n"));
        var dir = DebianDaemons.CreateScratch("pochta-mbsync-");
        try
        {
            var maildir = Path.Combine(dir, "mail");
            Directory.CreateDirectory(maildir);
            var inbox = Path.Combine(maildir, "INBOX");
            var config = Path.Combine(dir, "mbsyncrc");
            await WriteMbsyncConfigAsync(config, User, maildir, inbox, "*");
            await RunMbsyncAsync(config, dir);
            Assert.Single(Directory.GetFiles(Path.Combine(inbox, "new")));
        }
        finally
        {
            DebianDaemons.DeleteScratch(dir);
        }
    }

    [RequiresToolFact("mutt", "script")]
    public async Task Mutt_reads_a_message_byte_for_byte_and_flags_it()
    {
        var user = await fixture.NewUserAsync(Password);
        var first = ImapFixture.Message("for mutt", "Line one.\r\n.dot line\r\nÜmlaut line.\r\n");
        await fixture.DeliverAsync(user, "INBOX", first, ImapFixture.Message("second", "other\r\n"));

        var dir = DebianDaemons.CreateScratch("pochta-mutt-");
        try
        {
            var muttrc = Path.Combine(dir, "muttrc");
            var output = Path.Combine(dir, "piped.eml");
            var folder = $"imaps://127.0.0.1:{fixture.ImapsPort.ToString(CultureInfo.InvariantCulture)}/";
            var url = folder + "INBOX";
            await File.WriteAllTextAsync(muttrc, $"""
                set imap_user = "{user}"
                set imap_pass = "{Password}"
                set folder = "{folder}"
                set certificate_file = "{fixture.CertificatePath}"
                set ssl_verify_host = yes
                set header_cache = ""
                set message_cachedir = ""
                set sort = mailbox-order
                set move = no
                set wait_key = no
                set quit = yes
                set mark_old = no
                set pipe_decode = no
                set timeout = 5

                """);

            // mutt needs a terminal: script(1) gives it a pty. Pipe message 1 raw to a file,
            // toggle its \Flagged, write the change back, quit.
            var keys = $"<pipe-message>cat > {output}<enter><flag-message><sync-mailbox><quit>";
            var command = $"mutt -n -F {muttrc} -f {url} -e 'push \"{keys}\"'";
            var (exit, screen) = await InteropServerFixture.RunAsync("script", ["-q", "-e", "-c", command, "/dev/null"], dir,
                new Dictionary<string, string> { ["TERM"] = "vt100", ["HOME"] = dir, ["LC_ALL"] = "C.UTF-8" });
            Assert.True(exit == 0, "mutt failed: " + screen);
            Assert.True(File.Exists(output), "mutt did not pipe the message: " + screen);

            // mutt hands the message to the pipe with LF line ends; otherwise the stored bytes.
            var stored = Encoding.UTF8.GetString((await fixture.Server.ReadMailboxAsync(user))[0]);
            Assert.Equal(stored.Replace("\r\n", "\n", StringComparison.Ordinal), await File.ReadAllTextAsync(output));
            Assert.Contains("Subject: for mutt\n", stored.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);

            var entries = await EntriesAsync(user);
            Assert.Equal(MessageFlags.Flagged, entries[0].Flags & MessageFlags.Flagged);
            Assert.Equal(MessageFlags.None, entries[1].Flags & MessageFlags.Flagged);
        }
        finally
        {
            DebianDaemons.DeleteScratch(dir);
        }
    }
}