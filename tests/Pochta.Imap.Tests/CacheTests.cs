using Pochta.Imap.Tests.Support;
using Pochta.Mime;

namespace Pochta.Imap.Tests;

/// <summary>The shared decoded-index cache (<see cref="MessageCache"/>): what sessions see stays
/// exact while it is warm (flags, expunges, other mailboxes), and it stays within its capacity.</summary>
public sealed class CacheTests
{
    private const string Simple = FetchTests.Simple;

    private const string Other = "From: Carol <carol@example.org>\nTo: alice@example.test\nSubject: Second one\nDate: Tue, 1 Dec 2026 11:00:00 +0000\nMessage-ID: <2@example.org>\n\nBye.\n";

    private const string Third = "From: Dave <dave@example.org>\nTo: alice@example.test\nSubject: Third one\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <3@example.org>\n\nAgain.\n";

    [Fact]
    public async Task Second_fetch_and_search_are_served_from_the_cache_with_the_same_bytes()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Other);
        var c = await h.LoginAsync("INBOX");
        const string Fetch = "FETCH 1:2 (ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[HEADER]<0.20> RFC822.HEADER)";
        var cold = await c.OkAsync("a " + Fetch);
        var misses = h.Handler.Cache.Misses;
        Assert.Equal(2, misses);
        Assert.Equal(2, h.Handler.Cache.Count);
        var warm = await c.OkAsync("b " + Fetch);
        Assert.Equal(cold, warm);
        Assert.Equal(misses, h.Handler.Cache.Misses);
        Assert.True(h.Handler.Cache.Hits >= 2);
        Assert.Contains(warm, l => l.Contains("BODY[HEADER.FIELDS (SUBJECT FROM)] {56}\r\nFrom: Carol <carol@example.org>\r\nSubject: Second one\r\n\r\n", StringComparison.Ordinal));
        Assert.Contains(warm, l => l.Contains("BODY[HEADER]<0> {20}\r\nFrom: Bob <bob@examp", StringComparison.Ordinal));

        // A second session shares the entries: no further loads.
        var d = await h.LoginAsync("INBOX");
        Assert.Equal("* SEARCH 2", await d.OneAsync("s SEARCH HEADER Subject \"second\""));
        Assert.Equal("* SEARCH 1", await d.OneAsync("t SEARCH FROM \"bob\""));
        Assert.Equal(misses, h.Handler.Cache.Misses);
    }

    [Fact]
    public async Task Flag_change_by_another_session_is_seen_while_the_index_is_cached()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        var a = await h.LoginAsync("INBOX");
        var b = await h.LoginAsync("INBOX");
        await a.OkAsync("a1 FETCH 1 (ENVELOPE FLAGS)");
        await b.OkAsync("b1 STORE 1 +FLAGS.SILENT (\\Flagged)");
        // The change is reported before the tagged OK (RFC 9051 §7.4.1), then FETCH shows it.
        Assert.Contains("* 1 FETCH (FLAGS (\\Flagged \\Recent))", await a.OkAsync("a2 NOOP"));
        var line = await a.OneAsync("a2 FETCH 1 (FLAGS ENVELOPE)");
        Assert.StartsWith("* 1 FETCH (FLAGS (\\Flagged \\Recent) ENVELOPE (\"Mon, 30 Nov 2026", line, StringComparison.Ordinal);
        Assert.Equal("* SEARCH 1", await a.OneAsync("a3 SEARCH FLAGGED FROM \"bob\""));
        await b.OkAsync("b2 STORE 1 -FLAGS.SILENT (\\Flagged)");
        Assert.Contains("* 1 FETCH (FLAGS (\\Recent))", await a.OkAsync("a4 NOOP"));
        Assert.Equal("* SEARCH", await a.OneAsync("a5 SEARCH FLAGGED FROM \"bob\""));
    }

    [Fact]
    public async Task Expunge_by_another_session_renumbers_cached_messages_correctly()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Other);
        await h.DeliverAsync(Third);
        var a = await h.LoginAsync("INBOX");
        var b = await h.LoginAsync("INBOX");
        Assert.Equal(3, (await a.OkAsync("a1 FETCH 1:3 (UID ENVELOPE)")).Count);

        await b.OkAsync("b1 STORE 2 +FLAGS.SILENT (\\Deleted)");
        Assert.Equal(["* 2 EXPUNGE"], await b.OkAsync("b2 EXPUNGE"));

        // Deferred during FETCH (RFC 9051 §7.5.1): the gone message's content is skipped.
        var during = await a.OkAsync("a2 FETCH 1:3 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
        Assert.DoesNotContain(during, l => l.Contains("Second one", StringComparison.Ordinal));
        Assert.Contains(during, l => l.StartsWith("* 3 FETCH (UID 3 ", StringComparison.Ordinal) && l.Contains("Third one", StringComparison.Ordinal));

        Assert.Equal(["* 2 EXPUNGE"], await a.OkAsync("a3 NOOP"));
        var after = await a.OneAsync("a4 FETCH 2 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
        Assert.StartsWith("* 2 FETCH (UID 3 ", after, StringComparison.Ordinal);
        Assert.Contains("Subject: Third one", after, StringComparison.Ordinal);
        Assert.Equal("* SEARCH", await a.OneAsync("a5 SEARCH SUBJECT \"second\""));
        Assert.Equal("* SEARCH 2", await a.OneAsync("a6 SEARCH SUBJECT \"third\""));

        // A new session never sees the expunged one, cached or not.
        var c = await h.LoginAsync("INBOX");
        Assert.Equal("* SEARCH 1 2", await c.OneAsync("c1 SEARCH TO \"alice\""));
    }

    [Fact]
    public async Task A_copy_in_a_second_mailbox_shares_the_index_but_keeps_its_own_flags()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Other, "Archive");
        var a = await h.LoginAsync("INBOX");
        await a.OkAsync("a1 FETCH 1 ENVELOPE");
        await a.OkAsync("a2 COPY 1 Archive");
        await a.OkAsync("a3 STORE 1 +FLAGS.SILENT (\\Answered)");

        var b = await h.LoginAsync("Archive");
        var lines = await b.OkAsync("b1 FETCH 1:2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
        Assert.Equal(2, lines.Count);
        Assert.Contains("Second one", lines[0], StringComparison.Ordinal);
        Assert.Contains("Hello there", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("\\Answered", lines[1], StringComparison.Ordinal);
        Assert.Equal("* SEARCH 2", await b.OneAsync("b2 SEARCH FROM \"bob\""));
        Assert.Equal("* SEARCH", await b.OneAsync("b3 SEARCH ANSWERED"));
        Assert.Equal("* SEARCH 1", await a.OneAsync("a4 SEARCH ANSWERED FROM \"bob\""));
    }

    [Fact]
    public async Task Disabled_cache_gives_the_same_responses()
    {
        await using var h = await ImapHarness.CreateAsync(new ImapOptions { MessageCacheSize = 0, FailedLoginDelay = TimeSpan.Zero });
        await h.DeliverAsync(Simple);
        var c = await h.LoginAsync("INBOX");
        var header = "From: Bob <bob@example.net>\r\nTo: alice@example.test\r\nSubject: Hello there\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@example.net>\r\n\r\n";
        Assert.Equal($"* 1 FETCH (RFC822.HEADER {{{header.Length}}}\r\n{header})", await c.OneAsync("a FETCH 1 RFC822.HEADER"));
        Assert.Equal($"* 1 FETCH (RFC822.HEADER {{{header.Length}}}\r\n{header})", await c.OneAsync("b FETCH 1 RFC822.HEADER"));
        Assert.Equal("* SEARCH 1", await c.OneAsync("c SEARCH SUBJECT \"hello\""));
        Assert.Equal(0, h.Handler.Cache.Count);
        Assert.Equal(0, h.Handler.Cache.Bytes);
    }

    [Fact]
    public async Task Capacity_bounds_the_cache_and_evicts_least_recently_used()
    {
        await using var h = await ImapHarness.CreateAsync();
        var ids = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            await h.DeliverAsync(Simple.Replace("Hello there", "Hello " + i, StringComparison.Ordinal));
        }

        foreach (var e in await h.Store.Mailboxes.ListMessagesAsync((await h.Store.Mailboxes.FindMailboxAsync(h.AccountId, "INBOX", default))!.Id, default))
        {
            ids.Add(e.MessageId);
        }

        var one = MessageCache.Estimate(MessageIndexSerializer.Deserialize((await h.Store.Messages.GetIndexAsync(ids[0], default)).Span, includeBodyText: false));
        var cache = new MessageCache((one * 3) + (one / 2));
        foreach (var id in ids)
        {
            var index = await cache.GetIndexAsync(h.Store.Messages, id, default);
            Assert.Empty(index.Search.BodyText);
        }

        Assert.Equal(3, cache.Count);
        Assert.True(cache.Bytes <= (one * 3) + (one / 2));

        // The three most recent stay; touching one keeps it over a newer load.
        var misses = cache.Misses;
        await cache.GetIndexAsync(h.Store.Messages, ids[7], default);
        Assert.Equal(misses, cache.Misses);
        await cache.GetIndexAsync(h.Store.Messages, ids[0], default);
        await cache.GetIndexAsync(h.Store.Messages, ids[7], default);
        Assert.Equal(misses + 1, cache.Misses);
        await cache.GetIndexAsync(h.Store.Messages, ids[8], default);
        Assert.Equal(misses + 2, cache.Misses);
    }

    [Fact]
    public async Task Shared_mailbox_index_follows_flags_expunges_and_new_mail_between_selects()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Other);
        await h.DeliverAsync(Third);
        var a = await h.LoginAsync();
        var first = await a.OkAsync("a1 SELECT INBOX");
        Assert.Contains("* 3 EXISTS", first);
        Assert.Equal(1, h.Handler.Snapshots.Loads);

        // Changes by another session and by delivery, while nobody has INBOX selected.
        await a.OkAsync("a2 STORE 2 +FLAGS.SILENT (\\Deleted)");
        await a.OkAsync("a3 STORE 1 +FLAGS.SILENT (\\Seen)");
        await a.OkAsync("a4 CLOSE");
        await h.DeliverAsync(Simple.Replace("Hello there", "Fourth", StringComparison.Ordinal), keywords: "$Work");

        var b = await h.LoginAsync();
        var select = await b.OkAsync("b1 SELECT INBOX");
        Assert.Contains("* 3 EXISTS", select);
        Assert.Contains(select, l => l.StartsWith("* FLAGS (", StringComparison.Ordinal) && l.Contains("$Work", StringComparison.Ordinal));
        Assert.Contains(select, l => l.StartsWith("* OK [UNSEEN 2]", StringComparison.Ordinal));
        Assert.Equal(1, h.Handler.Snapshots.Loads);
        Assert.Equal(
            ["* 1 FETCH (UID 1 FLAGS (\\Seen))", "* 2 FETCH (UID 3 FLAGS ())", "* 3 FETCH (UID 4 FLAGS ($Work \\Recent))"],
            (await b.OkAsync("b2 FETCH 1:* (UID FLAGS)")).Select(l => l.Replace("\\Recent $Work", "$Work \\Recent", StringComparison.Ordinal)).ToList());

        // A session that keeps the mailbox selected is unaffected by the next SELECT's update.
        var c = await h.LoginAsync("INBOX");
        await c.OkAsync("c1 STORE 1 -FLAGS.SILENT (\\Seen)");
        Assert.Contains("* 1 FETCH (FLAGS ())", await b.OkAsync("b3 NOOP"));
        var d = await h.LoginAsync();
        Assert.Contains(await d.OkAsync("d1 EXAMINE INBOX"), l => l.StartsWith("* OK [UNSEEN 1]", StringComparison.Ordinal));
        Assert.Equal(1, h.Handler.Snapshots.Loads);
    }

    [Fact]
    public async Task Each_mailbox_has_its_own_shared_index()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Other, "Archive");
        await h.DeliverAsync(Third, "Archive");
        var a = await h.LoginAsync();
        Assert.Contains("* 1 EXISTS", await a.OkAsync("a1 SELECT INBOX"));
        Assert.Contains("* 2 EXISTS", await a.OkAsync("a2 SELECT Archive"));
        await a.OkAsync("a3 MOVE 1 INBOX");
        Assert.Contains("* 2 EXISTS", await a.OkAsync("a4 SELECT INBOX"));
        Assert.Equal("* SEARCH 2", await a.OneAsync("a5 SEARCH SUBJECT \"second\""));
        Assert.Contains("* 1 EXISTS", await a.OkAsync("a6 SELECT Archive"));
        Assert.Equal("* SEARCH 1", await a.OneAsync("a7 SEARCH SUBJECT \"third\""));
        Assert.Equal(2, h.Handler.Snapshots.Mailboxes);
        Assert.Equal(3, h.Handler.Snapshots.Entries);
    }

    [Fact]
    public void Applying_changes_keeps_uid_order_and_drops_expunged()
    {
        static Storage.MessageEntry E(uint uid, ulong modSeq) => new(uid, uid, Core.MessageFlags.None, [], modSeq, DateTimeOffset.UnixEpoch, 10);
        Storage.MessageEntry[] entries = [E(1, 1), E(3, 1), E(5, 1)];
        var changes = new Storage.MailboxChanges(9, 8, [E(3, 7), E(4, 8), E(7, 9), E(5, 9)], [5, 6]);
        var result = MailboxSnapshots.Apply(entries, changes);
        Assert.Equal([1u, 3u, 4u, 7u], result.Select(e => e.Uid));
        Assert.Equal([1ul, 7ul, 8ul, 9ul], result.Select(e => e.ModSeq));
        Assert.Equal([1u, 3u, 5u], entries.Select(e => e.Uid));
    }

    [Fact]
    public async Task Snapshot_capacity_drops_least_recently_used_mailboxes()
    {
        await using var h = await ImapHarness.CreateAsync(new ImapOptions { MailboxIndexEntries = 2, FailedLoginDelay = TimeSpan.Zero });
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Other);
        await h.DeliverAsync(Third, "Archive");
        var a = await h.LoginAsync();
        await a.OkAsync("a1 SELECT INBOX");
        await a.OkAsync("a2 SELECT Archive");
        Assert.Equal(1, h.Handler.Snapshots.Mailboxes);
        Assert.Contains("* 2 EXISTS", await a.OkAsync("a3 SELECT INBOX"));
        Assert.Equal(3, h.Handler.Snapshots.Loads);
        Assert.Equal(2, h.Handler.Snapshots.Entries);
    }
}