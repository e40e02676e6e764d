using System.Text;

using Microsoft.Extensions.Time.Testing;

using Pochta.Core;
using Pochta.Sasl;
using Pochta.Smtp.Tests.Support;
using Pochta.Storage;
using Pochta.Storage.Sqlite;

namespace Pochta.Smtp.Tests;

/// <summary>Transcripts against the real SqliteMailStore (WAL, fsync, group commit) and the real
/// Authenticator: what a 250 promises is read back through the store's own API.</summary>
public sealed class SqliteTranscriptTests : SqliteStoreTest
{
    private protected override async Task SeedAsync(IDirectoryStore directory, CancellationToken ct)
    {
        await directory.AddAccountAsync("alice@example.org", Credential("alice-pw"), 0, ct);
        await directory.AddAccountAsync("bob@example.org", Credential("bob-pw"), 0, ct);
        await directory.AddAliasAsync("team@example.org", ["alice@example.org", "bob@example.org", "dave@remote.example"], ct);
    }

    private async Task<IReadOnlyList<string>> InboxAsync(string address)
    {
        var account = await Store.Directory.FindAccountAsync(address, CancellationToken.None);
        var inbox = await Store.Mailboxes.FindMailboxAsync(account!.Id, "INBOX", CancellationToken.None);
        var result = new List<string>();
        foreach (var entry in await Store.Mailboxes.ListMessagesAsync(inbox!.Id, CancellationToken.None))
        {
            await using var stream = await Store.Messages.OpenMessageAsync(entry.MessageId, CancellationToken.None);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            result.Add(await reader.ReadToEndAsync());
        }

        return result;
    }

    [Fact]
    public async Task Alias_delivery_is_one_blob_two_inbox_copies_and_a_queue_entry_with_dsn()
    {
        await using var h = SmtpHarness.Start(Store, Auth);
        await h.HelloAsync();
        await h.ExpectAsync("MAIL FROM:<sender@remote.example> RET=HDRS ENVID=env1", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<team@example.org> NOTIFY=FAILURE,DELAY", "250 2.1.5");
        await h.ExpectAsync("RCPT TO:<alice+x@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync("Subject: team\r\n\r\n..hello\r\n.", "250 2.0.0");

        var alice = Assert.Single(await InboxAsync("alice@example.org"));
        var bob = Assert.Single(await InboxAsync("bob@example.org"));
        Assert.Equal(alice, bob);
        Assert.StartsWith("Return-Path: <sender@remote.example>\r\nReceived: from client.example.net ([192.0.2.10])", alice, StringComparison.Ordinal);
        Assert.EndsWith("Subject: team\r\n\r\n.hello\r\n", alice, StringComparison.Ordinal);

        var entry = Assert.Single(await Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal("sender@remote.example", entry.Sender);
        Assert.Equal("env1", entry.EnvelopeId);
        Assert.False(entry.ReturnFullMessage);
        var r = Assert.Single(entry.Recipients);
        Assert.Equal(("dave@remote.example", "FAILURE,DELAY", "rfc822;team@example.org"), (r.Address, r.Notify, r.OriginalRecipient));
        Assert.Equal(1, h.Signal.Count);
    }

    [Fact]
    public async Task Pipelined_reset_and_disconnect_deliver_exactly_once()
    {
        await using (var h = SmtpHarness.Start(Store, Auth))
        {
            await h.HelloAsync();
            await h.SendAsync(
                "MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: 1\r\n\r\none\r\n.\r\n" +
                "MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nRSET\r\n" +
                "MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<ALICE@example.org>\r\nBDAT 19\r\nSubject: 2\r\n\r\ntwo\r\nBDAT 0 LAST\r\n" +
                "MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: 3\r\n\r\ncut off");
            foreach (var prefix in new[] { "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "250 2.0.0", "250 2.1.0", "250 2.1.5", "354" })
            {
                Assert.StartsWith(prefix, await h.ReadReplyAsync(), StringComparison.Ordinal);
            }

            h.CloseClient();
            Assert.True(await h.ClosedAsync());
            await h.Session;
        }

        var inbox = await InboxAsync("alice@example.org");
        Assert.Equal(2, inbox.Count);
        Assert.EndsWith("Subject: 1\r\n\r\none\r\n", inbox[0], StringComparison.Ordinal);
        Assert.EndsWith("Subject: 2\r\n\r\ntwo\r\n", inbox[1], StringComparison.Ordinal);
        Assert.Empty(await InboxAsync("bob@example.org"));
    }

    [Fact]
    public async Task Submission_with_the_real_authenticator()
    {
        await using var h = SmtpHarness.Start(Store, Auth, new HarnessOptions { Protocol = MailProtocol.Submission, Remote = "127.0.0.1" });
        var ehlo = await h.HelloAsync();
        Assert.Contains("AUTH", ehlo, StringComparison.Ordinal);
        Assert.Contains("PLAIN", ehlo, StringComparison.Ordinal);
        Assert.Contains("SCRAM-SHA-256", ehlo, StringComparison.Ordinal);
        await h.ExpectAsync("MAIL FROM:<bob@example.org>", "530 5.7.0");
        var login = await AdvanceAsync(h, "AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0bob@example.org\0bob-pw")));
        Assert.StartsWith("235 2.7.0", login, StringComparison.Ordinal);
        await h.ExpectAsync("MAIL FROM:<alice@example.org>", "553 5.7.1");
        await h.ExpectAsync("MAIL FROM:<team@example.org>", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<alice@example.org>", "250 2.1.5");
        await h.ExpectAsync("RCPT TO:<someone@remote.example>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync("Subject: s\r\n\r\nsubmitted\r\n.", "250 2.0.0");
        var stored = Assert.Single(await InboxAsync("alice@example.org"));
        Assert.Contains("with ESMTPA", stored, StringComparison.Ordinal);
        Assert.Equal("someone@remote.example", Assert.Single(Assert.Single(await Store.Queue.ListAsync(CancellationToken.None)).Recipients).Address);
    }

    [Fact]
    public async Task Unknown_user_and_wrong_password_answer_alike()
    {
        await using var h = SmtpHarness.Start(Store, Auth, new HarnessOptions { Protocol = MailProtocol.Submission, Remote = "127.0.0.1", Configure = o => o.AuthFailureDelay = TimeSpan.Zero });
        await h.HelloAsync();
        var wrong = await AdvanceAsync(h, "AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0bob@example.org\0nope")));
        var unknown = await AdvanceAsync(h, "AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0nobody@example.org\0nope")));
        Assert.Equal("535 5.7.8 Authentication credentials invalid", wrong);
        Assert.Equal(wrong, unknown);
    }

    private static async Task<string?> AdvanceAsync(SmtpHarness h, string line)
    {
        await h.SendAsync(line + "\r\n");
        return await h.ReadReplyAsync();
    }
}