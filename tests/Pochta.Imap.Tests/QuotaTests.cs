using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;

using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

/// <summary>RFC 9208 QUOTA: capabilities, GETQUOTAROOT, GETQUOTA, SETQUOTA refused, and
/// NO [OVERQUOTA] for APPEND, COPY and MOVE that would pass a limit (nothing stored).</summary>
public sealed class QuotaTests
{
    private const string Simple = FetchTests.Simple;

    private static int Size => Simple.ReplaceLineEndings("\r\n").Length;

    [Fact]
    public async Task Capability_lists_quota_and_its_resources()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        var cap = (await c.OkAsync("a CAPABILITY"))[0];
        Assert.Contains(" QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE ", cap, StringComparison.Ordinal);
        Assert.DoesNotContain("QUOTASET", cap, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Getquotaroot_and_getquota_report_usage_in_kib_and_messages()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Simple, "Archive");
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, 10 * 1024 * 1024, 500, default);
        var c = await h.LoginAsync();

        // Usage is rounded up to whole KiB: two small messages are 1 KiB.
        Assert.Equal(["* QUOTAROOT INBOX \"\"", "* QUOTA \"\" (STORAGE 1 10240 MESSAGE 2 500)"], await c.OkAsync("a GETQUOTAROOT inbox"));
        Assert.Equal(["* QUOTAROOT Archive \"\"", "* QUOTA \"\" (STORAGE 1 10240 MESSAGE 2 500)"], await c.OkAsync("b GETQUOTAROOT Archive"));
        Assert.Equal("* QUOTA \"\" (STORAGE 1 10240 MESSAGE 2 500)", await c.OneAsync("c GETQUOTA \"\""));
        Assert.Equal("d NO [NONEXISTENT] No such quota root", (await c.CommandAsync("d GETQUOTA \"user.bob\""))[^1]);
        Assert.Equal("e NO [NONEXISTENT] No such mailbox", (await c.CommandAsync("e GETQUOTAROOT Nowhere"))[^1]);

        // Only the resources that have a limit are listed.
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, 0, 500, default);
        Assert.Equal("* QUOTA \"\" (MESSAGE 2 500)", await c.OneAsync("f GETQUOTA \"\""));
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, 2048, 0, default);
        Assert.Equal("* QUOTA \"\" (STORAGE 1 2)", await c.OneAsync("g GETQUOTA \"\""));
    }

    [Fact]
    public async Task Without_limits_there_is_no_quota_root()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        Assert.Equal(["* QUOTAROOT INBOX"], await c.OkAsync("a GETQUOTAROOT INBOX"));
        Assert.Equal("b NO [NONEXISTENT] No such quota root", (await c.CommandAsync("b GETQUOTA \"\""))[^1]);
    }

    [Fact]
    public async Task Setquota_is_refused_and_changes_nothing_and_bad_syntax_is_bad()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, 1024 * 1024, 0, default);
        var c = await h.LoginAsync();
        Assert.Equal("a NO [NOPERM] Quota limits are set by the administrator", (await c.CommandAsync("a SETQUOTA \"\" (STORAGE 999999)"))[^1]);
        Assert.Equal("* QUOTA \"\" (STORAGE 0 1024)", await c.OneAsync("b GETQUOTA \"\""));
        Assert.StartsWith("c BAD", (await c.CommandAsync("c SETQUOTA \"\" (STORAGE)"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("d BAD", (await c.CommandAsync("d GETQUOTAROOT"))[^1], StringComparison.Ordinal);

        // Not before login (RFC 9208 commands are valid in the authenticated state).
        var anonymous = await h.ConnectAsync();
        Assert.StartsWith("e BAD", (await anonymous.CommandAsync("e GETQUOTAROOT INBOX"))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Append_over_quota_is_refused_before_the_literal_and_stores_nothing()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, (2 * Size) - 1, 0, default);
        var c = await h.LoginAsync();
        var msg = Simple.ReplaceLineEndings("\r\n");

        // Synchronizing literal: refused instead of "+", the client sends nothing more.
        Assert.Equal(["a NO [OVERQUOTA] Quota exceeded"], await c.CommandAsync("a APPEND INBOX {" + msg.Length + "}"));

        // Non-synchronizing: the literal is read and discarded, then the same refusal.
        await c.SendAsync("b APPEND INBOX {" + msg.Length + "+}\r\n" + msg + "\r\n");
        Assert.Equal("b NO [OVERQUOTA] Quota exceeded", await c.ReadLineAsync());

        // MULTIAPPEND whose messages fit one by one but not together: none is stored.
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, (2 * Size) + 10, 0, default);
        await c.SendAsync("c APPEND INBOX {" + msg.Length + "+}\r\n" + msg + " {" + msg.Length + "+}\r\n" + msg + "\r\n");
        Assert.Equal("c NO [OVERQUOTA] Quota exceeded", await c.ReadLineAsync());
        Assert.Single(await h.Store.Mailboxes.ListMessagesAsync((await h.Store.Mailboxes.FindMailboxAsync(h.AccountId, "INBOX", default))!.Id, default));

        // One still fits.
        Assert.Matches(@"^d OK \[APPENDUID \d+ 2\] APPEND completed$", (await c.CommandAsync("d APPEND INBOX {" + msg.Length + "+}\r\n" + msg))[^1]);

        // The message limit is checked the same way.
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, 0, 2, default);
        await c.SendAsync("e APPEND INBOX {" + msg.Length + "+}\r\n" + msg + "\r\n");
        Assert.Equal("e NO [OVERQUOTA] Quota exceeded", await c.ReadLineAsync());
    }

    [Fact]
    public async Task Multiappend_whose_quota_shrinks_before_the_line_ends_stores_none_of_its_messages()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, 10 * Size, 0, default);
        var c = await h.LoginAsync();
        var msg = Simple.ReplaceLineEndings("\r\n");

        // Both literals are announced and checked against a roomy quota; the administrator
        // then lowers it to one message before the command line ends. RFC 3502 §3: none of
        // the messages is appended (and the account's usage shows none).
        await c.SendAsync("a APPEND INBOX {" + msg.Length + "+}\r\n" + msg + " {" + msg.Length + "+}\r\n" + msg);
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, Size + 10, 0, default);
        await c.SendAsync("\r\n");
        Assert.Equal("a NO [OVERQUOTA] Quota exceeded", await c.ReadLineAsync());

        var inbox = (await h.Store.Mailboxes.FindMailboxAsync(h.AccountId, "INBOX", default))!.Id;
        Assert.Empty(await h.Store.Mailboxes.ListMessagesAsync(inbox, default));

        // One transaction for both (crash-atomic too): not even a UID was used.
        Assert.Equal(1u, (await h.Store.Mailboxes.GetMailboxAsync(inbox, default))!.UidNext);
        var usage = await h.Store.Directory.GetQuotaUsageAsync(h.AccountId, default);
        Assert.NotNull(usage);
        Assert.Equal(0, usage.UsedMessages);

        // The session goes on, and one message still fits.
        Assert.Matches(@"^b OK \[APPENDUID \d+ \d+\] APPEND completed$", (await c.CommandAsync("b APPEND INBOX {" + msg.Length + "+}\r\n" + msg))[^1]);
    }

    [Fact]
    public async Task Copy_over_quota_is_refused_whole_and_move_inside_the_account_still_works()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Simple);
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, (3 * Size) + 10, 0, default);
        var c = await h.LoginAsync("INBOX");
        Assert.Equal("a NO [OVERQUOTA] Quota exceeded", (await c.CommandAsync("a COPY 1:2 Archive"))[^1]);
        Assert.Equal("b NO [OVERQUOTA] Quota exceeded", (await c.CommandAsync("b UID COPY 1:* Archive"))[^1]);
        Assert.Equal(["* STATUS Archive (MESSAGES 0)"], await c.OkAsync("c STATUS Archive (MESSAGES)"));

        // MOVE does not grow the account's usage (RFC 9208 §4.3 concerns growth).
        var moved = await c.OkAsync("d MOVE 1:2 Archive");
        Assert.Contains("* 1 EXPUNGE", moved);
        Assert.Equal(["* STATUS Archive (MESSAGES 2)"], await c.OkAsync("e STATUS Archive (MESSAGES)"));
        // The limit is rounded down to whole KiB (here under 1 KiB: 0).
        Assert.Equal("* QUOTA \"\" (STORAGE 1 0)", await c.OneAsync("f GETQUOTA \"\""));
    }

    [Fact]
    public async Task Status_deleted_storage_counts_what_expunge_would_free()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple, flags: Core.MessageFlags.Deleted);
        await h.DeliverAsync(Simple);
        var big = "Subject: big\r\n\r\n" + new string('x', 3000) + "\r\n";
        await h.DeliverAsync(big, flags: Core.MessageFlags.Deleted);
        var c = await h.LoginAsync();
        var expected = ((long)Size + big.Length + 1023) / 1024;
        Assert.Equal($"* STATUS INBOX (DELETED 2 DELETED-STORAGE {expected})", await c.OneAsync("a STATUS INBOX (DELETED DELETED-STORAGE)"));
        Assert.Equal("* STATUS Archive (DELETED-STORAGE 0)", await c.OneAsync("b STATUS Archive (DELETED-STORAGE)"));
    }

    [Fact]
    public async Task MailKit_reads_the_quota()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.Store.Directory.SetQuotaAsync(ImapHarness.User, 5 * 1024 * 1024, 100, default);
        await using var server = new TcpImapServer(h);
        using var client = new ImapClient();
        client.ServerCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == server.Thumbprint;
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
        await client.AuthenticateAsync(ImapHarness.User, ImapHarness.Password);
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.Quota));

        var quota = await client.Inbox.GetQuotaAsync();
        Assert.Equal(5u * 1024, quota.StorageLimit);
        Assert.Equal(1u, quota.CurrentStorageSize);
        Assert.Equal(100u, quota.MessageLimit);
        Assert.Equal(1u, quota.CurrentMessageCount);
        Assert.Equal("", quota.QuotaRoot!.FullName);

        // SETQUOTA through MailKit is refused.
        await Assert.ThrowsAsync<ImapCommandException>(() => client.Inbox.SetQuotaAsync(1, 1));
        await client.DisconnectAsync(true);
    }
}