using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

public sealed class SearchTests
{
    private static string Msg(string from, string subject, string date, string body, string id, string? refs = null) =>
        $"From: {from}\nTo: alice@example.test\nSubject: {subject}\nDate: {date}\nMessage-ID: <{id}>\n" + (refs is null ? string.Empty : $"References: {refs}\nIn-Reply-To: {refs.Split(' ')[^1]}\n") + $"\n{body}\n";

    private static async Task<ImapHarness> SeedAsync()
    {
        var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Msg("Zed <zed@example.net>", "Plans", "Mon, 2 Nov 2026 10:00:00 +0000", "Let us meet on Friday.", "a@x"), date: new DateTimeOffset(2026, 11, 2, 10, 0, 0, TimeSpan.Zero));
        await h.DeliverAsync(Msg("Bob <bob@example.net>", "Re: Plans", "Tue, 3 Nov 2026 10:00:00 +0000", "Friday works. Café?", "b@x", "<a@x>"), flags: Core.MessageFlags.Seen, date: new DateTimeOffset(2026, 11, 3, 10, 0, 0, TimeSpan.Zero));
        await h.DeliverAsync(Msg("Amy <amy@example.org>", "Invoice", "Wed, 4 Nov 2026 10:00:00 +0000", "Please pay.", "c@x"), flags: Core.MessageFlags.Flagged | Core.MessageFlags.Seen, date: new DateTimeOffset(2026, 11, 4, 10, 0, 0, TimeSpan.Zero), keywords: "$Work");
        await h.DeliverAsync(Msg("Zed <zed@example.net>", "Re: Re: Plans", "Thu, 5 Nov 2026 10:00:00 +0000", "See you.", "d@x", "<a@x> <b@x>"), date: new DateTimeOffset(2026, 11, 5, 10, 0, 0, TimeSpan.Zero));
        return h;
    }

    [Fact]
    public async Task Search_keys()
    {
        await using var h = await SeedAsync();
        var c = await h.LoginAsync("INBOX");
        Assert.Equal("* SEARCH 1 2 3 4", await c.OneAsync("a SEARCH ALL"));
        Assert.Equal("* SEARCH 1 4", await c.OneAsync("b SEARCH UNSEEN"));
        Assert.Equal("* SEARCH 3", await c.OneAsync("c SEARCH FLAGGED KEYWORD $Work"));
        Assert.Equal("* SEARCH 1 4", await c.OneAsync("d SEARCH FROM zed"));
        Assert.Equal("* SEARCH 1 2 4", await c.OneAsync("e SEARCH SUBJECT plans"));
        Assert.Equal("* SEARCH 2", await c.OneAsync("f SEARCH CHARSET UTF-8 BODY \"café\""));
        Assert.Equal("* SEARCH 1 2", await c.OneAsync("g SEARCH TEXT friday"));
        Assert.Equal("* SEARCH 2 3", await c.OneAsync("h SEARCH SINCE 3-Nov-2026 BEFORE 5-Nov-2026"));
        Assert.Equal("* SEARCH 4", await c.OneAsync("i SEARCH SENTON 5-Nov-2026"));
        Assert.Equal("* SEARCH 1 3", await c.OneAsync("j SEARCH OR FROM amy NOT HEADER References \"\""));
        Assert.Equal("* SEARCH 2 3", await c.OneAsync("k SEARCH 2:3"));
        Assert.Equal("* SEARCH 3 4", await c.OneAsync("l UID SEARCH UID 3:*"));
        Assert.Equal("* SEARCH 1 2 3 4", await c.OneAsync("m SEARCH LARGER 10 SMALLER 100000"));
        Assert.Equal("* SEARCH 1 2 3 4", await c.OneAsync("n SEARCH RECENT"));
        Assert.Equal("* SEARCH", await c.OneAsync("o SEARCH DELETED"));
        Assert.Equal("p NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset", (await c.CommandAsync("p SEARCH CHARSET KOI8-R ALL"))[^1]);
        Assert.Equal("q BAD Syntax error in command", (await c.CommandAsync("q SEARCH FROBNICATE"))[^1]);
    }

    [Fact]
    public async Task Text_search_over_a_large_mailbox_is_exact_and_in_order()
    {
        // Above the parallel threshold: every 7th message has the word, one is expunged
        // and one is \Deleted; the answer must be exactly the expected numbers, ascending.
        await using var h = await ImapHarness.CreateAsync();
        for (var i = 1; i <= 600; i++)
        {
            var body = i % 7 == 0 ? $"Message {i} mentions zebra." : $"Message {i} is plain.";
            await h.DeliverAsync(Msg("Zed <zed@example.net>", $"n{i}", "Mon, 2 Nov 2026 10:00:00 +0000", body, $"m{i}@x"));
        }

        var c = await h.LoginAsync("INBOX");
        await c.OkAsync("a STORE 7 +FLAGS.SILENT (\\Deleted)");
        await c.OkAsync("b EXPUNGE");
        var expected = Enumerable.Range(1, 599).Where(seq => (seq < 7 ? seq : seq + 1) % 7 == 0);
        Assert.Equal("* SEARCH " + string.Join(' ', expected), await c.OneAsync("c SEARCH TEXT ZEBRA"));
        Assert.Equal("* SEARCH " + string.Join(' ', expected.Where(seq => seq > 100)), await c.OneAsync("d SEARCH BODY zebra NOT 1:100"));
    }

    [Fact]
    public async Task Esearch_and_searchres()
    {
        await using var h = await SeedAsync();
        var c = await h.LoginAsync("INBOX");
        Assert.Equal("* ESEARCH (TAG \"a\") MIN 1 MAX 4 COUNT 2", await c.OneAsync("a SEARCH RETURN (MIN MAX COUNT) FROM zed OR FROM bob FROM zed"));
        Assert.Equal("* ESEARCH (TAG \"b\") UID ALL 1:2,4", await c.OneAsync("b UID SEARCH RETURN () SUBJECT plans"));
        Assert.Equal("* ESEARCH (TAG \"c\") COUNT 0", await c.OneAsync("c SEARCH RETURN (COUNT ALL) DELETED"));
        Assert.Empty(await c.OkAsync("d SEARCH RETURN (SAVE) UNSEEN"));
        Assert.Equal("* 1 FETCH (UID 1)\n* 4 FETCH (UID 4)", string.Join("\n", await c.OkAsync("e FETCH $ UID")));
        Assert.Equal("* SEARCH 4", await c.OneAsync("f SEARCH $ FROM zed SINCE 4-Nov-2026"));
    }

    [Fact]
    public async Task Rev2_search_returns_esearch()
    {
        await using var h = await SeedAsync();
        var c = await h.LoginAsync();
        await c.OkAsync("x ENABLE IMAP4rev2");
        await c.OkAsync("s SELECT INBOX");
        Assert.Equal("* ESEARCH (TAG \"a\") ALL 1:2,4", await c.OneAsync("a SEARCH SUBJECT plans"));
    }

    [Fact]
    public async Task Sort()
    {
        await using var h = await SeedAsync();
        var c = await h.LoginAsync("INBOX");
        Assert.Equal("* SORT 3 2 1 4", await c.OneAsync("a SORT (FROM) UTF-8 ALL"));
        Assert.Equal("* SORT 4 3 2 1", await c.OneAsync("b SORT (REVERSE ARRIVAL) UTF-8 ALL"));
        Assert.Equal("* SORT 3 1 2 4", await c.OneAsync("c SORT (SUBJECT) UTF-8 ALL"));
        Assert.Equal("* SORT 4 1", await c.OneAsync("d UID SORT (REVERSE DATE) US-ASCII FROM zed"));
        Assert.Equal("* SORT 3 2 1 4", await c.OneAsync("e SORT (DISPLAYFROM) UTF-8 ALL"));
    }

    [Fact]
    public async Task Thread_references_and_orderedsubject()
    {
        await using var h = await SeedAsync();
        var c = await h.LoginAsync("INBOX");
        Assert.Equal("* THREAD (1 2 4)(3)", await c.OneAsync("a THREAD REFERENCES UTF-8 ALL"));
        Assert.Equal("* THREAD (1 (2)(4))(3)", await c.OneAsync("b THREAD ORDEREDSUBJECT UTF-8 ALL"));
        Assert.Equal("* THREAD (1 2)", await c.OneAsync("c UID THREAD REFERENCES UTF-8 1:2"));
        Assert.Equal("d BAD Unsupported threading algorithm", (await c.CommandAsync("d THREAD FOO UTF-8 ALL"))[^1]);
    }
}