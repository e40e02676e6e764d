using Pochta.Core;

namespace Pochta.Storage.Tests;

/// <summary>The quota part of the storage contract: usage follows every change of an account's
/// mailboxes in the same transaction, and a write that would pass a limit fails whole.</summary>
public abstract partial class MailStoreContractTests
{
    private async Task<QuotaUsage> UsageAsync(long accountId) =>
        await Store.Directory.GetQuotaUsageAsync(accountId, Ct) ?? throw new InvalidOperationException("no account");

    [Fact]
    public async Task Usage_follows_delivery_copy_move_expunge_and_mailbox_delete()
    {
        var (account, inbox) = await NewAccountAsync();
        var other = await Store.Mailboxes.CreateMailboxAsync(account.Id, "Other", SpecialUse.None, Ct);
        var a = Body("a", 3000);
        var b = Body("b", LargeMessageSize + 100);
        Assert.Equal(new QuotaUsage(account.Id, 0, 0, 0, 0), await UsageAsync(account.Id));

        await DeliverAsync(a, [inbox.Id]);
        await DeliverAsync(b, [inbox.Id, other.Id]);
        Assert.Equal(a.Length + (2L * b.Length), (await UsageAsync(account.Id)).UsedBytes);
        Assert.Equal(3, (await UsageAsync(account.Id)).UsedMessages);

        // COPY adds a copy's size; MOVE inside the account changes nothing.
        await Store.Mailboxes.CopyAsync(inbox.Id, [1], other.Id, Ct);
        Assert.Equal(new QuotaUsage(account.Id, (2L * a.Length) + (2L * b.Length), 4, 0, 0), await UsageAsync(account.Id));
        await Store.Mailboxes.MoveAsync(inbox.Id, [2], other.Id, Ct);
        Assert.Equal(new QuotaUsage(account.Id, (2L * a.Length) + (2L * b.Length), 4, 0, 0), await UsageAsync(account.Id));

        await Store.Mailboxes.ExpungeAsync(inbox.Id, [1], Ct);
        Assert.Equal(new QuotaUsage(account.Id, a.Length + (2L * b.Length), 3, 0, 0), await UsageAsync(account.Id));

        // Deleting a mailbox releases everything in it; usage survives a restart (stored, not cached).
        await Store.Mailboxes.DeleteMailboxAsync(other.Id, Ct);
        await RestartAsync();
        Assert.Equal(new QuotaUsage(account.Id, 0, 0, 0, 0), await UsageAsync(account.Id));
        Assert.Null(await Store.Directory.GetQuotaUsageAsync(account.Id + 1000, Ct));
    }

    [Fact]
    public async Task Usage_is_per_account()
    {
        var (one, inbox1) = await NewAccountAsync("one@example.test");
        var (two, inbox2) = await NewAccountAsync("two@example.test");
        var body = Body("shared", 1500);
        await DeliverAsync(body, [inbox1.Id, inbox2.Id]);
        await DeliverAsync(body, [inbox2.Id]);
        Assert.Equal((body.Length, 1L), ((await UsageAsync(one.Id)).UsedBytes, (await UsageAsync(one.Id)).UsedMessages));
        Assert.Equal((2L * body.Length, 2L), ((await UsageAsync(two.Id)).UsedBytes, (await UsageAsync(two.Id)).UsedMessages));
    }

    [Fact]
    public async Task Set_quota_changes_limits_and_refuses_bad_input()
    {
        var (account, _) = await NewAccountAsync();
        await Store.Directory.SetQuotaAsync("USER@example.test", 5 * 1024 * 1024, 100, Ct);
        Assert.Equal(new QuotaUsage(account.Id, 0, 0, 5 * 1024 * 1024, 100), await UsageAsync(account.Id));
        Assert.Equal(5 * 1024 * 1024, (await Store.Directory.GetAccountAsync(account.Id, Ct))!.QuotaBytes);
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Directory.SetQuotaAsync("nobody@example.test", 1, 0, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.Directory.SetQuotaAsync("user@example.test", -1, 0, Ct));
        await Store.Directory.SetQuotaAsync("user@example.test", 0, 0, Ct);
        Assert.False((await UsageAsync(account.Id)).HasLimit);
    }

    [Fact]
    public async Task Commit_all_is_one_transaction_in_order_or_nothing()
    {
        var atomic = Assert.IsAssignableFrom<IAtomicCommit>(Store.Messages);
        var (_, inbox) = await NewAccountAsync();
        var small = Body("small", 2000);
        var large = Body("large", LargeMessageSize + 100);
        await Store.Directory.SetQuotaAsync("user@example.test", small.Length + large.Length + 10, 0, Ct);

        DeliveryRequest Request(StagedMessage staged) =>
            new(staged, "I"u8.ToArray(), string.Empty, [new LocalDelivery(inbox.Id, MessageFlags.None, [], Time.GetUtcNow())], [], null);

        // An inline and a file body: results in request order, consecutive UIDs.
        await using (var a = await StageAsync(small))
        await using (var b = await StageAsync(large))
        {
            var results = await atomic.CommitAllAsync([Request(a), Request(b)], Ct);
            Assert.Equal([1u, 2u], results.Select(r => r.Uids.Single()));
        }

        // The first request fits the room left, the second passes the limit: neither is
        // visible and no UID or body is used (the first, committed alone afterwards, gets UID 3).
        var blobs = await CountBlobsAsync();
        var first = Body("c", 300);
        var second = Body("d", LargeMessageSize + 200);
        await Store.Directory.SetQuotaAsync("user@example.test", small.Length + large.Length + first.Length + (second.Length / 2), 0, Ct);
        await using (var c = await StageAsync(first))
        await using (var d = await StageAsync(second))
        {
            await Assert.ThrowsAsync<QuotaExceededException>(() => atomic.CommitAllAsync([Request(c), Request(d)], Ct));
            Assert.Equal(3u, (await atomic.CommitAllAsync([Request(c)], Ct))[0].Uids.Single());
        }

        Assert.Equal(3, (await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct)).Count);
        Assert.Equal(4u, (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!.UidNext);
        Assert.Equal(blobs + 1, await CountBlobsAsync());
    }


    [Fact]
    public async Task A_delivery_over_the_storage_limit_fails_whole_and_leaves_nothing()
    {
        var (full, fullInbox) = await NewAccountAsync("full@example.test");
        var (_, okInbox) = await NewAccountAsync("ok@example.test");
        var body = Body("big", LargeMessageSize + 500);
        await Store.Directory.SetQuotaAsync("full@example.test", body.Length - 1, 0, Ct);

        await using var staged = await StageAsync(body);
        var request = new DeliveryRequest(
            staged,
            "I"u8.ToArray(),
            "a@example.test",
            [new LocalDelivery(okInbox.Id, MessageFlags.None, [], Time.GetUtcNow()), new LocalDelivery(fullInbox.Id, MessageFlags.None, [], Time.GetUtcNow())],
            [new QueuedRecipient("r@remote.test", null, null)],
            null);
        var e = await Assert.ThrowsAsync<QuotaExceededException>(() => Store.Messages.CommitAsync(request, Ct));
        Assert.Equal(full.Id, e.AccountId);
        Assert.Equal(QuotaResource.Storage, e.Resource);
        Assert.Equal(body.Length - 1, e.Limit);

        // Nothing of the operation is visible: no copy for the other account, no queue entry,
        // no blob, no UID used, usage unchanged.
        Assert.Empty(await Store.Mailboxes.ListMessagesAsync(okInbox.Id, Ct));
        Assert.Empty(await Store.Mailboxes.ListMessagesAsync(fullInbox.Id, Ct));
        Assert.Empty(await Store.Queue.ListAsync(Ct));
        Assert.Equal(0, await CountBlobsAsync());
        Assert.Equal(1u, (await Store.Mailboxes.GetMailboxAsync(fullInbox.Id, Ct))!.UidNext);
        Assert.Equal(0, (await UsageAsync(full.Id)).UsedBytes);

        // Exactly at the limit fits; the staged body is still usable for a corrected commit.
        await Store.Directory.SetQuotaAsync("full@example.test", body.Length, 0, Ct);
        var ok = await Store.Messages.CommitAsync(request, Ct);
        Assert.Equal(2, ok.Uids.Count);
        Assert.True((await UsageAsync(full.Id)).IsFull);
    }

    [Fact]
    public async Task The_message_limit_is_enforced()
    {
        var (account, inbox) = await NewAccountAsync();
        await Store.Directory.SetQuotaAsync("user@example.test", 0, 2, Ct);
        await DeliverAsync(Body("1"), [inbox.Id]);
        await DeliverAsync(Body("2"), [inbox.Id]);
        var e = await Assert.ThrowsAsync<QuotaExceededException>(() => DeliverAsync(Body("3"), [inbox.Id]));
        Assert.Equal(QuotaResource.Messages, e.Resource);
        Assert.Equal(2, e.Limit);
        Assert.Equal(2, (await UsageAsync(account.Id)).UsedMessages);
    }

    [Fact]
    public async Task Copy_over_quota_fails_whole_but_move_and_expunge_work_at_a_full_account()
    {
        var (account, inbox) = await NewAccountAsync();
        var archive = await Store.Mailboxes.CreateMailboxAsync(account.Id, "Keep", SpecialUse.None, Ct);
        var a = Body("a", 2000);
        var b = Body("b", 2000);
        await DeliverAsync(a, [inbox.Id]);
        await DeliverAsync(b, [inbox.Id]);
        await Store.Directory.SetQuotaAsync("user@example.test", a.Length + b.Length + 100, 0, Ct);

        // Copying both would pass the limit: neither is copied, the destination is untouched.
        var before = (await Store.Mailboxes.GetMailboxAsync(archive.Id, Ct))!;
        await Assert.ThrowsAsync<QuotaExceededException>(() => Store.Mailboxes.CopyAsync(inbox.Id, [1, 2], archive.Id, Ct));
        Assert.Empty(await Store.Mailboxes.ListMessagesAsync(archive.Id, Ct));
        Assert.Equal(before, await Store.Mailboxes.GetMailboxAsync(archive.Id, Ct));

        // MOVE inside the account does not grow usage (RFC 9208 §4.3 applies to growth only).
        var moved = await Store.Mailboxes.MoveAsync(inbox.Id, [1, 2], archive.Id, Ct);
        Assert.Equal([1u, 2u], moved.DestinationUids);

        // A lowered limit below usage: growth is refused, shrinking is not.
        await Store.Directory.SetQuotaAsync("user@example.test", 100, 0, Ct);
        await Assert.ThrowsAsync<QuotaExceededException>(() => DeliverAsync(Body("tiny"), [inbox.Id]));
        await Store.Mailboxes.MoveAsync(archive.Id, [1], inbox.Id, Ct);
        await Store.Mailboxes.ExpungeAsync(inbox.Id, null, Ct);
        await Store.Mailboxes.ExpungeAsync(inbox.Id, [3], Ct);
        Assert.Equal(b.Length, (await UsageAsync(account.Id)).UsedBytes);
    }

    [Fact]
    public async Task A_failed_quota_operation_does_not_fail_its_batch_neighbours()
    {
        var (_, fullInbox) = await NewAccountAsync("full@example.test");
        var (_, okInbox) = await NewAccountAsync("ok@example.test");
        await Store.Directory.SetQuotaAsync("full@example.test", 10, 0, Ct);
        var tasks = Enumerable.Range(0, 20).Select(i => Task.Run(() => DeliverAsync(Body("n" + i, 500), [i % 2 == 0 ? okInbox.Id : fullInbox.Id]))).ToList();
        foreach (var (task, i) in tasks.Select((t, i) => (t, i)))
        {
            if (i % 2 == 0)
            {
                await task;
            }
            else
            {
                await Assert.ThrowsAsync<QuotaExceededException>(() => task);
            }
        }

        Assert.Equal(10, (await Store.Mailboxes.ListMessagesAsync(okInbox.Id, Ct)).Count);
        Assert.Empty(await Store.Mailboxes.ListMessagesAsync(fullInbox.Id, Ct));
    }

    [Fact]
    public async Task Concurrent_deliveries_racing_for_the_last_bytes_never_pass_the_limit()
    {
        var (account, inbox) = await NewAccountAsync();
        const int n = 40;
        var bodies = Enumerable.Range(0, n).Select(i => Body("race" + i, 1000)).ToArray();
        var size = bodies[0].Length;

        // Room for exactly 7 messages (and a few octets that fit nothing).
        await Store.Directory.SetQuotaAsync("user@example.test", (7L * size) + (size / 2), 0, Ct);
        var staged = await Task.WhenAll(bodies.Select(b => StageAsync(b)));
        var outcomes = await Task.WhenAll(staged.Select(s => Task.Run(async () =>
        {
            try
            {
                await Store.Messages.CommitAsync(new DeliveryRequest(s, "I"u8.ToArray(), "", [new LocalDelivery(inbox.Id, MessageFlags.None, [], Time.GetUtcNow())], [], null), Ct);
                return true;
            }
            catch (QuotaExceededException)
            {
                return false;
            }
        })));
        foreach (var s in staged)
        {
            await s.DisposeAsync();
        }

        Assert.Equal(7, outcomes.Count(o => o));
        var entries = await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct);
        Assert.Equal(7, entries.Count);
        var usage = await UsageAsync(account.Id);
        Assert.Equal(7L * size, usage.UsedBytes);
        Assert.Equal(entries.Sum(e => e.Size), usage.UsedBytes);
        Assert.Equal(7, await CountBlobsAsync());
    }

    [Fact]
    public void Usage_predicates()
    {
        var u = new QuotaUsage(1, 900, 9, 1000, 10);
        Assert.True(u.Fits(100));
        Assert.False(u.Fits(101));
        Assert.False(u.IsFull);
        Assert.True((u with { UsedMessages = 10 }).IsFull);
        Assert.False((u with { UsedMessages = 10 }).Fits(1));
        Assert.True(new QuotaUsage(1, 5000, 50, 0, 0).Fits(long.MaxValue / 2));
    }
}