using Pochta.Core;
using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

/// <summary>Commands that change nothing do not wait for a write transaction; those that do
/// change something still commit before their tagged OK.</summary>
public sealed class WriteAvoidanceTests
{
    [Fact]
    public async Task Store_that_changes_nothing_commits_nothing_and_answers_the_same()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(FetchTests.Simple, flags: MessageFlags.Seen);
        var c = await h.LoginAsync("INBOX");
        var batches = h.Store.CommittedBatches;
        Assert.Equal("* 1 FETCH (FLAGS (\\Seen \\Recent))", await c.OneAsync("a STORE 1 +FLAGS (\\Seen)"));
        Assert.Equal("* 1 FETCH (FLAGS (\\Seen \\Recent))", await c.OneAsync("b STORE 1 -FLAGS (\\Flagged)"));
        Assert.Equal(batches, h.Store.CommittedBatches);

        // A real change commits (and another session sees it).
        var other = await h.LoginAsync("INBOX");
        Assert.Equal("* 1 FETCH (FLAGS (\\Recent))", await c.OneAsync("d STORE 1 -FLAGS (\\Seen)"));
        Assert.Equal(batches + 1, h.Store.CommittedBatches);
        Assert.Contains("* 1 FETCH (FLAGS ())", await other.OkAsync("o NOOP"));
    }

    [Fact]
    public async Task Conditional_store_conflict_alone_commits_nothing()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(FetchTests.Simple);
        var c = await h.LoginAsync("INBOX");
        await c.OkAsync("a STORE 1 +FLAGS.SILENT (\\Flagged)");
        var batches = h.Store.CommittedBatches;
        var lines = await c.CommandAsync("b STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)");
        Assert.StartsWith("b OK [MODIFIED 1]", lines[^1], StringComparison.Ordinal);
        Assert.Equal(batches, h.Store.CommittedBatches);
    }

    [Fact]
    public async Task Select_without_new_mail_claims_recent_without_a_write()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(FetchTests.Simple);
        var a = await h.LoginAsync();
        Assert.Contains("* 1 RECENT", await a.OkAsync("a1 SELECT INBOX"));
        var batches = h.Store.CommittedBatches;
        var b = await h.LoginAsync();
        Assert.Contains("* 0 RECENT", await b.OkAsync("b1 SELECT INBOX"));
        Assert.Contains("* 0 RECENT", await a.OkAsync("a2 SELECT INBOX"));
        Assert.Equal(batches, h.Store.CommittedBatches);

        // New mail is still claimed by exactly one session.
        await h.DeliverAsync(FetchTests.Simple);
        var recent = new[] { await a.OkAsync("a3 NOOP"), await b.OkAsync("b2 NOOP") };
        Assert.Single(recent, r => r.Contains("* 1 RECENT"));
        Assert.Single(recent, r => r.Contains("* 0 RECENT"));
    }
}