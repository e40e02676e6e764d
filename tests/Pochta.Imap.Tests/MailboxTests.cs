using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

public sealed class MailboxTests
{
    private const string Message = "From: Bob <bob@example.net>\nTo: alice@example.test\nSubject: Hello\nDate: Mon, 30 Nov 2026 10:00:00 +0000\nMessage-ID: <1@example.net>\n\nHi Alice.\n";

    [Fact]
    public async Task List_shows_default_mailboxes_with_special_use()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        var lines = await c.OkAsync("a LIST \"\" *");
        Assert.Equal(
            [
                "* LIST (\\HasNoChildren) \"/\" INBOX",
                "* LIST (\\HasNoChildren \\Archive) \"/\" Archive",
                "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts",
                "* LIST (\\HasNoChildren \\Junk) \"/\" Junk",
                "* LIST (\\HasNoChildren \\Sent) \"/\" Sent",
                "* LIST (\\HasNoChildren \\Trash) \"/\" Trash",
            ],
            lines);
        Assert.Equal(["* LIST (\\Noselect) \"/\" \"\""], await c.OkAsync("b LIST \"\" \"\""));
    }

    [Fact]
    public async Task Create_hierarchy_percent_wildcard_and_children()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        await c.OkAsync("a CREATE Work/Projects/2026");
        Assert.Equal(["* LIST (\\HasChildren) \"/\" Work"], await c.OkAsync("b LIST \"\" W%"));
        Assert.Equal(["* LIST (\\HasChildren) \"/\" Work/Projects"], await c.OkAsync("c LIST Work %"));
        Assert.Equal(["* LIST (\\HasNoChildren) \"/\" Work/Projects/2026"], await c.OkAsync("d LIST \"\" Work/*/2026"));
        Assert.Equal("e NO [ALREADYEXISTS] Mailbox already exists", (await c.CommandAsync("e CREATE Work"))[^1]);
        Assert.Equal("f NO [ALREADYEXISTS] INBOX always exists", (await c.CommandAsync("f CREATE inbox"))[^1]);
        Assert.Equal(["* LIST (\\HasNoChildren) \"/\" INBOX"], await c.OkAsync("g LIST \"\" InBoX"));
    }

    [Fact]
    public async Task Delete_parent_leaves_children_and_lists_noselect()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        await c.OkAsync("a CREATE foo/bar");
        await c.OkAsync("b DELETE foo");
        Assert.Equal(["* LIST (\\Noselect \\HasChildren) \"/\" foo", "* LIST (\\HasNoChildren) \"/\" foo/bar"], await c.OkAsync("c LIST \"\" foo*"));
        Assert.Equal("d NO [INUSE] Name has inferior hierarchical names", (await c.CommandAsync("d DELETE foo"))[^1]);
        Assert.Equal(["* LIST (\\NonExistent \\HasChildren) \"/\" foo"], await c.OkAsync("e LIST \"\" foo RETURN (CHILDREN)"));
        Assert.Equal("f NO [NONEXISTENT] No such mailbox", (await c.CommandAsync("f DELETE nothing"))[^1]);
        Assert.Equal("g NO [CANNOT] INBOX cannot be deleted", (await c.CommandAsync("g DELETE INBOX"))[^1]);
    }

    [Fact]
    public async Task Rename_moves_children_and_INBOX_rename_moves_messages()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Message);
        await h.DeliverAsync(Message);
        var c = await h.LoginAsync();
        await c.OkAsync("a CREATE old/child");
        await c.OkAsync("b RENAME old new");
        Assert.Equal(["* LIST (\\HasChildren) \"/\" new", "* LIST (\\HasNoChildren) \"/\" new/child"], await c.OkAsync("c LIST \"\" new*"));
        Assert.Empty(await c.OkAsync("d LIST \"\" old*"));
        await c.OkAsync("e RENAME INBOX Saved");
        Assert.Equal(["* STATUS INBOX (MESSAGES 0)"], await c.OkAsync("f STATUS INBOX (MESSAGES)"));
        Assert.Equal(["* STATUS Saved (MESSAGES 2)"], await c.OkAsync("g STATUS Saved (MESSAGES)"));
        Assert.Equal("h NO [ALREADYEXISTS] Target mailbox already exists", (await c.CommandAsync("h RENAME Saved new"))[^1]);
    }

    [Fact]
    public async Task Subscribe_lsub_and_list_extended()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        foreach (var name in new[] { "INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash" })
        {
            // The store subscribes the default mailboxes; start from none.
            await c.OkAsync("u UNSUBSCRIBE " + name);
        }

        await c.OkAsync("a CREATE Lists/pochta");
        await c.OkAsync("b SUBSCRIBE Lists/pochta");
        await c.OkAsync("c SUBSCRIBE INBOX");
        Assert.Equal(["* LSUB () \"/\" INBOX", "* LSUB () \"/\" Lists/pochta"], await c.OkAsync("d LSUB \"\" *"));
        Assert.Equal(["* LSUB (\\Noselect) \"/\" Lists"], await c.OkAsync("e LSUB \"\" %s"));
        Assert.Equal(
            ["* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX", "* LIST (\\HasNoChildren \\Subscribed) \"/\" Lists/pochta"],
            await c.OkAsync("f LIST (SUBSCRIBED) \"\" *"));
        Assert.Equal(
            ["* LIST (\\HasChildren) \"/\" Lists (\"CHILDINFO\" (\"SUBSCRIBED\"))"],
            await c.OkAsync("g LIST (SUBSCRIBED RECURSIVEMATCH) \"\" Lists"));
        await c.OkAsync("h UNSUBSCRIBE Lists/pochta");
        Assert.Equal(["* LSUB () \"/\" INBOX"], await c.OkAsync("i LSUB \"\" *"));
        Assert.Equal(["* LIST (\\HasNoChildren \\Sent) \"/\" Sent"], await c.OkAsync("j LIST (SPECIAL-USE) \"\" S*"));
        Assert.Equal("k BAD Unknown selection option", (await c.CommandAsync("k LIST (BOGUS) \"\" *"))[^1]);
    }

    [Fact]
    public async Task List_status_and_status_items()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Message);
        await h.DeliverAsync(Message, flags: Core.MessageFlags.Seen | Core.MessageFlags.Deleted);
        var c = await h.LoginAsync();
        var size = Message.ReplaceLineEndings("\r\n").Length * 2;
        Assert.Equal(
            ["* LIST (\\HasNoChildren) \"/\" INBOX", "* STATUS INBOX (MESSAGES 2 UNSEEN 1)"],
            await c.OkAsync("a LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN))"));
        var s = await c.OkAsync("b STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)");
        Assert.Matches(@"^\* STATUS INBOX \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 1 DELETED 1 SIZE " + size + @" HIGHESTMODSEQ \d+\)$", s[0]);
        Assert.Equal("c NO [NONEXISTENT] No such mailbox", (await c.CommandAsync("c STATUS Nope (MESSAGES)"))[^1]);
        Assert.Equal("d BAD Unknown status item", (await c.CommandAsync("d STATUS INBOX (BOGUS)"))[^1]);
    }

    [Fact]
    public async Task Select_and_examine_responses()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Message, flags: Core.MessageFlags.Seen);
        await h.DeliverAsync(Message, keywords: "$Forwarded");
        var c = await h.LoginAsync();
        var r = await c.CommandAsync("a SELECT inbox");
        Assert.Equal("* 2 EXISTS", r[0]);
        Assert.Equal("* 2 RECENT", r[1]);
        Assert.Equal("* OK [UNSEEN 2] First unseen", r[2]);
        Assert.Equal("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)", r[3]);
        Assert.Equal("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted", r[4]);
        Assert.Matches(@"^\* OK \[UIDVALIDITY \d+\] UIDs valid$", r[5]);
        Assert.Equal("* OK [UIDNEXT 3] Predicted next UID", r[6]);
        Assert.Equal("a OK [READ-WRITE] SELECT completed", r[^1]);

        var e = await c.CommandAsync("b EXAMINE INBOX");
        Assert.Equal("* OK [CLOSED] Previous mailbox closed", e[0]);
        Assert.Equal("* 0 RECENT", e[2]);
        Assert.Equal("b OK [READ-ONLY] EXAMINE completed", e[^1]);
        Assert.Equal("c NO [READ-ONLY] Mailbox is read-only", (await c.CommandAsync("c STORE 1 +FLAGS (\\Deleted)"))[^1]);

        Assert.Equal("d NO [NONEXISTENT] No such mailbox", (await c.CommandAsync("d SELECT Nope"))[^1]);
        Assert.Equal("e BAD Command not valid in this state", (await c.CommandAsync("e FETCH 1 FLAGS"))[^1]);
    }

    [Fact]
    public async Task Rev2_select_has_no_recent_and_lists_name()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Message);
        var c = await h.LoginAsync();
        await c.OkAsync("a ENABLE IMAP4rev2");
        var r = await c.OkAsync("b SELECT INBOX");
        Assert.DoesNotContain(r, l => l.Contains("RECENT", StringComparison.Ordinal));
        Assert.Contains("* LIST () \"/\" INBOX", r);
    }

    [Fact]
    public async Task Close_expunges_unselect_does_not()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Message, flags: Core.MessageFlags.Deleted);
        await h.DeliverAsync(Message);
        var c = await h.LoginAsync("INBOX");
        await c.OkAsync("a UNSELECT");
        Assert.Equal(["* STATUS INBOX (MESSAGES 2)"], await c.OkAsync("b STATUS INBOX (MESSAGES)"));
        await c.OkAsync("c SELECT INBOX");
        Assert.Empty(await c.OkAsync("d CLOSE"));
        Assert.Equal(["* STATUS INBOX (MESSAGES 1)"], await c.OkAsync("e STATUS INBOX (MESSAGES)"));
    }

    [Fact]
    public async Task Utf8_and_modified_utf7_names()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        await c.OkAsync("a CREATE \"&BB8EPgRHBEIEMA-\"");
        Assert.Equal(["* LIST (\\HasNoChildren) \"/\" &BB8EPgRHBEIEMA-"], await c.OkAsync("b LIST \"\" &BB8-*"));
        await c.OkAsync("c ENABLE UTF8=ACCEPT");
        Assert.Equal(["* LIST (\\HasNoChildren) \"/\" \"Почта\""], await c.OkAsync("d LIST \"\" \"Почта\""));
    }
}