using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

public sealed class MessageTests
{
    private const string Simple = FetchTests.Simple;

    [Fact]
    public async Task Store_flags_silent_and_keywords()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Simple);
        var c = await h.LoginAsync();
        await c.OkAsync("x ENABLE IMAP4rev2");
        await c.OkAsync("y SELECT INBOX");
        Assert.Equal(["* 1 FETCH (FLAGS (\\Seen \\Deleted))", "* 2 FETCH (FLAGS (\\Seen \\Deleted))"], await c.OkAsync("a STORE 1:2 +FLAGS (\\Deleted \\Seen)"));
        Assert.Equal("* 2 FETCH (UID 2 FLAGS (\\Seen))", await c.OneAsync("b UID STORE 2 -FLAGS \\Deleted"));
        Assert.Empty(await c.OkAsync("c STORE 1 FLAGS.SILENT (\\Answered $Label1)"));
        Assert.Equal("* 1 FETCH (FLAGS (\\Answered $Label1))", await c.OneAsync("d FETCH 1 FLAGS"));
        Assert.Equal("e BAD Syntax error in command", (await c.CommandAsync("e STORE 1 +FLAGS (\\Bogus)"))[^1]);
    }

    [Fact]
    public async Task Store_unchangedsince_reports_modified()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Simple);
        var c = await h.LoginAsync("INBOX");
        await c.OkAsync("a STORE 2 +FLAGS.SILENT (\\Flagged)");
        var r = await c.CommandAsync("b STORE 1:2 (UNCHANGEDSINCE 2) +FLAGS (\\Seen)");
        Assert.Equal("b OK [MODIFIED 2] Conditional STORE failed for some messages", r[^1]);
        Assert.Matches(@"^\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)$", r[0]);
    }

    [Fact]
    public async Task Expunge_and_uid_expunge()
    {
        await using var h = await ImapHarness.CreateAsync();
        for (var i = 0; i < 4; i++)
        {
            await h.DeliverAsync(Simple, flags: Core.MessageFlags.Deleted);
        }

        await h.DeliverAsync(Simple);
        var c = await h.LoginAsync("INBOX");
        Assert.Equal(["* 2 EXPUNGE"], await c.OkAsync("a UID EXPUNGE 2,5"));
        Assert.Equal(["* 3 EXPUNGE", "* 2 EXPUNGE", "* 1 EXPUNGE"], await c.OkAsync("b EXPUNGE"));
        Assert.Equal("* 1 FETCH (UID 5)", await c.OneAsync("c FETCH 1 UID"));
    }

    [Fact]
    public async Task Copy_and_move_with_copyuid()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Simple);
        var c = await h.LoginAsync("INBOX");
        var validity = System.Text.RegularExpressions.Regex.Match(string.Join("\n", await c.OkAsync("v STATUS Archive (UIDVALIDITY)")), @"UIDVALIDITY (\d+)").Groups[1].Value;
        Assert.Equal($"a OK [COPYUID {validity} 1:2 1:2] COPY completed", (await c.CommandAsync("a COPY 1:2 Archive"))[^1]);
        Assert.Equal("b NO [TRYCREATE] No such mailbox", (await c.CommandAsync("b COPY 1 Nowhere"))[^1]);
        var move = await c.CommandAsync("c UID MOVE 2:3 Archive");
        Assert.Equal([$"* OK [COPYUID {validity} 2:3 3:4] Moved", "* 3 EXPUNGE", "* 2 EXPUNGE", "c OK UID MOVE completed"], move);
        Assert.Equal("* STATUS Archive (MESSAGES 4)", await c.OneAsync("d STATUS Archive (MESSAGES)"));
    }

    [Fact]
    public async Task Append_synchronizing_nonsync_multiappend_and_errors()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        var msg = Simple.ReplaceLineEndings("\r\n");
        await c.SendLineAsync("a APPEND INBOX (\\Seen $Work) \" 7-Feb-1994 21:52:25 -0800\" {" + msg.Length + "}");
        Assert.Equal("+ Ready for literal data", await c.ReadLineAsync());
        await c.SendAsync(msg + "\r\n");
        var done = await c.ReadLineAsync();
        Assert.Matches(@"^a OK \[APPENDUID \d+ 1\] APPEND completed$", done);

        await c.SendAsync("b APPEND INBOX {" + msg.Length + "+}\r\n" + msg + " (\\Flagged) {" + msg.Length + "+}\r\n" + msg + "\r\n");
        Assert.Matches(@"^b OK \[APPENDUID \d+ 2:3\] APPEND completed$", await c.ReadLineAsync());

        Assert.Equal("c NO [TRYCREATE] No such mailbox", (await c.CommandAsync("c APPEND Nowhere {10}"))[^1]);
        Assert.Equal("d NO [TOOBIG] Message too large", (await c.CommandAsync("d APPEND INBOX {999999999999}"))[^1]);

        await c.OkAsync("s SELECT INBOX");
        // RFC 9051 §6.3.12: the date-time as given, zone included.
        Assert.Equal("* 1 FETCH (FLAGS (\\Seen \\Recent $Work) INTERNALDATE \" 7-Feb-1994 21:52:25 -0800\")", await c.OneAsync("f FETCH 1 (FLAGS INTERNALDATE)"));
        Assert.Equal("* 3 FETCH (FLAGS (\\Flagged \\Recent))", await c.OneAsync("g FETCH 3 FLAGS"));
        Assert.Equal("* 3 FETCH (BODY[TEXT] {11}\r\nHi Alice.\r\n)", await c.OneAsync("h FETCH 3 BODY.PEEK[TEXT]"));
        // RFC 9051 §6.4.4: SEARCH compares the date-time's own date ("disregarding time and
        // timezone"; it is 8 Feb in UTC); COPY keeps the zone.
        Assert.Equal("* SEARCH 1", await c.OneAsync("f2 SEARCH ON 7-Feb-1994"));
        Assert.Equal("* SEARCH", await c.OneAsync("f3 SEARCH ON 8-Feb-1994"));
        await c.OkAsync("f4 COPY 1 Archive");
        await c.OkAsync("f5 EXAMINE Archive");
        Assert.Equal("* 1 FETCH (INTERNALDATE \" 7-Feb-1994 21:52:25 -0800\")", await c.OneAsync("f6 FETCH 1 INTERNALDATE"));
    }

    [Fact]
    public async Task Append_to_selected_mailbox_reports_exists()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync("INBOX");
        var msg = Simple.ReplaceLineEndings("\r\n");
        await c.SendAsync("a APPEND INBOX {" + msg.Length + "+}\r\n" + msg + "\r\n");
        var lines = await c.ReadUntilTaggedAsync("a");
        Assert.Equal(["* 1 EXISTS", "* 1 RECENT"], lines[..^1]);
    }
}