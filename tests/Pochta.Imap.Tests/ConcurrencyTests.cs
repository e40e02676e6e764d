using System.Diagnostics;

using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

/// <summary>Two sessions on one mailbox: RFC 9051 §7.4.1 / §7.5.1 untagged updates.</summary>
public sealed class ConcurrencyTests
{
    private const string Simple = FetchTests.Simple;

    [Fact]
    public async Task Flag_changes_and_new_mail_reach_the_other_session_at_noop()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        var a = await h.LoginAsync("INBOX");
        var b = await h.LoginAsync("INBOX");
        await b.OkAsync("b1 STORE 1 +FLAGS.SILENT (\\Flagged)");
        Assert.Equal("* 1 FETCH (FLAGS (\\Flagged \\Recent))", await a.OneAsync("a1 NOOP"));
        await h.DeliverAsync(Simple);
        Assert.Equal(["* 2 EXISTS", "* 2 RECENT"], await a.OkAsync("a2 NOOP"));
        Assert.Equal(["* 2 EXISTS", "* 0 RECENT"], await b.OkAsync("b2 NOOP"));
    }

    [Fact]
    public async Task Expunge_is_deferred_during_fetch_store_search_and_sent_at_noop()
    {
        await using var h = await ImapHarness.CreateAsync();
        for (var i = 0; i < 3; i++)
        {
            await h.DeliverAsync(Simple);
        }

        var a = await h.LoginAsync("INBOX");
        var b = await h.LoginAsync("INBOX");
        await b.OkAsync("b1 STORE 2 +FLAGS.SILENT (\\Deleted)");
        Assert.Equal(["* 2 EXPUNGE"], await b.OkAsync("b2 EXPUNGE"));

        // Sequence numbers in A stay as they were: no EXPUNGE during FETCH, STORE or SEARCH.
        var fetch = await a.OkAsync("a1 FETCH 1:* UID");
        Assert.Equal(["* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)"], fetch.Where(l => l.Contains("(UID", StringComparison.Ordinal)));
        Assert.DoesNotContain(fetch, l => l.EndsWith("EXPUNGE", StringComparison.Ordinal));
        Assert.DoesNotContain(await a.OkAsync("a2 STORE 3 +FLAGS (\\Seen)"), l => l.EndsWith("EXPUNGE", StringComparison.Ordinal));
        Assert.Equal("* SEARCH 1 3", await a.OneAsync("a3 SEARCH ALL"));

        // UID commands may carry it (RFC 9051 §7.5.1), and NOOP does.
        Assert.Equal(["* 2 EXPUNGE"], await a.OkAsync("a4 NOOP"));
        Assert.Equal("* SEARCH 1 2", await a.OneAsync("a5 SEARCH ALL"));
    }

    [Fact]
    public async Task Qresync_session_gets_vanished_and_select_resyncs()
    {
        await using var h = await ImapHarness.CreateAsync();
        for (var i = 0; i < 3; i++)
        {
            await h.DeliverAsync(Simple);
        }

        var a = await h.LoginAsync();
        await a.OkAsync("e ENABLE QRESYNC");
        var sel = await a.OkAsync("s SELECT INBOX");
        var validity = System.Text.RegularExpressions.Regex.Match(string.Join("\n", sel), @"UIDVALIDITY (\d+)").Groups[1].Value;
        var modseq = System.Text.RegularExpressions.Regex.Match(string.Join("\n", sel), @"HIGHESTMODSEQ (\d+)").Groups[1].Value;
        var b = await h.LoginAsync("INBOX");
        await b.OkAsync("b1 UID STORE 1,3 +FLAGS.SILENT (\\Deleted)");
        await b.OkAsync("b2 UID EXPUNGE 3");
        var noop = await a.OkAsync("a1 NOOP");
        Assert.Contains("* VANISHED 3", noop);
        Assert.Contains(noop, l => l.StartsWith("* 1 FETCH (UID 1 FLAGS (\\Deleted", StringComparison.Ordinal));

        var c = await h.LoginAsync();
        await c.OkAsync("e ENABLE QRESYNC");
        var resync = await c.OkAsync($"s SELECT INBOX (QRESYNC ({validity} {modseq} 1:3))");
        Assert.Contains("* VANISHED (EARLIER) 3", resync);
        Assert.Contains(resync, l => l.StartsWith("* 1 FETCH (UID 1 FLAGS (\\Deleted", StringComparison.Ordinal) && l.Contains("MODSEQ", StringComparison.Ordinal));
        Assert.Equal("* VANISHED (EARLIER) 3", (await c.OkAsync($"f UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)"))[0]);
    }

    [Fact]
    public async Task Idle_pushes_new_mail_and_flag_changes_within_100ms()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        var a = await h.LoginAsync("INBOX");
        var b = await h.LoginAsync("INBOX");
        await a.SendLineAsync("i IDLE");
        Assert.Equal("+ idling", await a.ReadLineAsync());

        var sw = Stopwatch.StartNew();
        await h.DeliverAsync(Simple);
        var delivered = sw.Elapsed;
        Assert.Equal("* 2 EXISTS", await a.ReadLineAsync());
        Assert.True(sw.Elapsed - delivered < TimeSpan.FromMilliseconds(100), "EXISTS took " + (sw.Elapsed - delivered));
        Assert.Equal("* 2 RECENT", await a.ReadLineAsync());

        await b.OkAsync("b1 STORE 1 +FLAGS.SILENT (\\Seen)");
        sw.Restart();
        Assert.Equal("* 1 FETCH (FLAGS (\\Seen \\Recent))", await a.ReadLineAsync());
        Assert.True(sw.Elapsed < TimeSpan.FromMilliseconds(100), "FETCH took " + sw.Elapsed);

        await b.OkAsync("b2 STORE 1 +FLAGS.SILENT (\\Deleted)");
        await a.ReadLineAsync();
        await b.OkAsync("b3 EXPUNGE");
        Assert.Equal("* 1 EXPUNGE", await a.ReadLineAsync());

        await a.SendLineAsync("DONE");
        Assert.Equal("i OK IDLE terminated", await a.ReadLineAsync());
        Assert.Equal("* 1 FETCH (UID 2)", await a.OneAsync("f FETCH 1 UID"));
    }

    [Fact]
    public async Task Idle_without_done_gets_bad()
    {
        await using var h = await ImapHarness.CreateAsync();
        var a = await h.LoginAsync("INBOX");
        await a.SendLineAsync("i IDLE");
        Assert.Equal("+ idling", await a.ReadLineAsync());
        await a.SendLineAsync("NOPE");
        Assert.Equal("i BAD Expected DONE", await a.ReadLineAsync());
        Assert.Empty(await a.OkAsync("n NOOP"));
    }
}