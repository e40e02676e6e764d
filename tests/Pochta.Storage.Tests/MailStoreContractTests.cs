using System.Security.Cryptography;
using System.Text;

using Microsoft.Extensions.Time.Testing;

using Pochta.Core;

namespace Pochta.Storage.Tests;

/// <summary>
/// The storage contract, written only against <see cref="IMailStore"/>. Each backend derives
/// a fixture that says how to open (and re-open) one store and how many bodies it holds.
/// </summary>
public abstract partial class MailStoreContractTests : IAsyncLifetime
{
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    protected IMailStore Store { get; private set; } = null!;

    protected static CancellationToken Ct => CancellationToken.None;

    /// <summary>Opens the backend's store over the same underlying data every time it is called
    /// within one test (a "restart" disposes the old one first).</summary>
    protected abstract IMailStore OpenStore(TimeProvider time);

    /// <summary>How many distinct bodies (blobs) the backend holds right now.</summary>
    protected abstract Task<int> CountBlobsAsync();

    /// <summary>A body above this size takes the backend's large-blob path.</summary>
    protected abstract int LargeMessageSize { get; }

    public virtual async Task InitializeAsync()
    {
        Store = OpenStore(Time);
        await Store.InitializeAsync(Ct);
    }

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    protected async Task RestartAsync()
    {
        await Store.DisposeAsync();
        Store = OpenStore(Time);
        await Store.InitializeAsync(Ct);
    }

    // ---- helpers ----

    protected static byte[] Body(string tag, int size = 0)
    {
        var head = Encoding.ASCII.GetBytes($"From: a@example.test\r\nSubject: {tag}\r\n\r\n");
        if (size <= head.Length)
        {
            return [.. head, .. "body\r\n"u8];
        }

        var bytes = new byte[size];
        head.CopyTo(bytes, 0);
        var rng = new Random(tag.GetHashCode(StringComparison.Ordinal));
        for (var i = head.Length; i < size; i++)
        {
            bytes[i] = (byte)('a' + rng.Next(26));
        }

        return bytes;
    }

    protected async Task<(AccountInfo Account, MailboxInfo Inbox)> NewAccountAsync(string address = "user@example.test")
    {
        var domain = address[(address.IndexOf('@', StringComparison.Ordinal) + 1)..];
        if (await Store.Directory.FindDomainAsync(domain, Ct) is null)
        {
            await Store.Directory.AddDomainAsync(domain, Ct);
        }

        var account = await Store.Directory.AddAccountAsync(address, "cred", 0, Ct);
        var inbox = await Store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", Ct);
        return (account, inbox!);
    }

    protected async Task<StagedMessage> StageAsync(byte[] body, int chunk = 7000)
    {
        var writer = Store.Messages.CreateWriter();
        await using (writer)
        {
            for (var i = 0; i < body.Length; i += chunk)
            {
                await writer.WriteAsync(body.AsMemory(i, Math.Min(chunk, body.Length - i)), Ct);
            }

            Assert.Equal(body.Length, writer.Length);
            return await writer.CompleteAsync(Ct);
        }
    }

    protected async Task<DeliveryResult> DeliverAsync(byte[] body, IReadOnlyList<long> mailboxes, IReadOnlyList<QueuedRecipient>? remote = null, MessageFlags flags = MessageFlags.None, string sender = "a@example.test")
    {
        await using var staged = await StageAsync(body);
        var local = mailboxes.Select(m => new LocalDelivery(m, flags, [], Time.GetUtcNow())).ToList();
        return await Store.Messages.CommitAsync(new DeliveryRequest(staged, "IDX"u8.ToArray(), sender, local, remote ?? [], null), Ct);
    }

    protected static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        await using (stream)
        {
            using var ms = new MemoryStream();
            await stream.CopyToAsync(ms);
            return ms.ToArray();
        }
    }

    // ---- directory ----

    [Fact]
    public async Task Domains_add_find_list_and_refuse_duplicates()
    {
        var a = await Store.Directory.AddDomainAsync("example.test", Ct);
        await Store.Directory.AddDomainAsync("other.test", Ct);
        Assert.Equal("example.test", a.Name);
        Assert.Equal(a.Id, (await Store.Directory.FindDomainAsync("example.test", Ct))!.Id);
        Assert.Null(await Store.Directory.FindDomainAsync("missing.test", Ct));
        Assert.Equal(["example.test", "other.test"], (await Store.Directory.ListDomainsAsync(Ct)).Select(d => d.Name));
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.Directory.AddDomainAsync("example.test", Ct));
    }

    [Fact]
    public async Task New_account_gets_the_six_special_use_mailboxes_subscribed()
    {
        var (account, _) = await NewAccountAsync();
        var boxes = await Store.Mailboxes.ListMailboxesAsync(account.Id, Ct);
        var expected = new Dictionary<string, SpecialUse>
        {
            ["INBOX"] = SpecialUse.Inbox,
            ["Drafts"] = SpecialUse.Drafts,
            ["Sent"] = SpecialUse.Sent,
            ["Junk"] = SpecialUse.Junk,
            ["Trash"] = SpecialUse.Trash,
            ["Archive"] = SpecialUse.Archive,
        };
        Assert.Equal(expected.Count, boxes.Count);
        foreach (var box in boxes)
        {
            Assert.Equal(expected[box.Name], box.SpecialUse);
            Assert.True(box.Subscribed);
            Assert.Equal(1u, box.UidNext);
            Assert.True(box.UidValidity > 0);
        }

        Assert.Equal(boxes.Count, boxes.Select(b => b.UidValidity).Distinct().Count());
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), (await Store.Mailboxes.ListSubscriptionsAsync(account.Id, Ct)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Accounts_credentials_and_lookup()
    {
        var (account, _) = await NewAccountAsync();
        await Store.Directory.AddDomainAsync("other.test", Ct);
        await Store.Directory.AddAccountAsync("zed@other.test", "c2", 1000, Ct);
        Assert.Equal(account, await Store.Directory.FindAccountAsync("user@example.test", Ct));
        Assert.Equal(account, await Store.Directory.GetAccountAsync(account.Id, Ct));
        Assert.Equal("cred", await Store.Directory.GetCredentialAsync("user@example.test", Ct));
        await Store.Directory.SetCredentialAsync("user@example.test", "new", Ct);
        Assert.Equal("new", await Store.Directory.GetCredentialAsync("user@example.test", Ct));
        Assert.Null(await Store.Directory.GetCredentialAsync("nobody@example.test", Ct));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Directory.SetCredentialAsync("nobody@example.test", "x", Ct));
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.Directory.AddAccountAsync("user@example.test", "x", 0, Ct));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Directory.AddAccountAsync("user@nowhere.test", "x", 0, Ct));
        Assert.Equal(["user@example.test", "zed@other.test"], (await Store.Directory.ListAccountsAsync(null, Ct)).Select(a => a.Address));
        var other = Assert.Single(await Store.Directory.ListAccountsAsync("other.test", Ct));
        Assert.Equal(1000, other.QuotaBytes);
        Assert.False(other.Disabled);
    }

    [Fact]
    public async Task Aliases_with_several_targets_and_catch_all()
    {
        await NewAccountAsync();
        var alias = await Store.Directory.AddAliasAsync("team@example.test", ["a@example.test", "b@remote.test"], Ct);
        Assert.Equal(["a@example.test", "b@remote.test"], alias.Targets);
        alias = await Store.Directory.AddAliasAsync("team@example.test", ["c@example.test", "a@example.test"], Ct);
        Assert.Equal(["a@example.test", "b@remote.test", "c@example.test"], alias.Targets);
        await Store.Directory.AddAliasAsync("@example.test", ["user@example.test"], Ct);
        Assert.Equal(["user@example.test"], (await Store.Directory.FindAliasAsync("@example.test", Ct))!.Targets);
        Assert.Equal(["@example.test", "team@example.test"], (await Store.Directory.ListAliasesAsync("example.test", Ct)).Select(a => a.Source));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Directory.AddAliasAsync("x@nowhere.test", ["user@example.test"], Ct));

        Assert.True(await Store.Directory.RemoveAliasAsync("team@example.test", "b@remote.test", Ct));
        Assert.Equal(["a@example.test", "c@example.test"], (await Store.Directory.FindAliasAsync("team@example.test", Ct))!.Targets);
        Assert.False(await Store.Directory.RemoveAliasAsync("team@example.test", "b@remote.test", Ct));
        Assert.True(await Store.Directory.RemoveAliasAsync("team@example.test", null, Ct));
        Assert.Null(await Store.Directory.FindAliasAsync("team@example.test", Ct));
        Assert.False(await Store.Directory.RemoveAliasAsync("team@example.test", null, Ct));
    }

    [Fact]
    public async Task Removing_an_account_with_mail_needs_force_and_releases_its_blobs()
    {
        var (account, inbox) = await NewAccountAsync();
        var (_, other) = await NewAccountAsync("other@example.test");
        var shared = await DeliverAsync(Body("shared"), [inbox.Id, other.Id]);
        await DeliverAsync(Body("own"), [inbox.Id]);
        Assert.Equal(2, await CountBlobsAsync());

        await Assert.ThrowsAsync<StoreConflictException>(() => Store.Directory.RemoveAccountAsync(account.Address, force: false, Ct));
        Assert.NotNull(await Store.Directory.FindAccountAsync(account.Address, Ct));

        Assert.True(await Store.Directory.RemoveAccountAsync(account.Address, force: true, Ct));
        Assert.Null(await Store.Directory.FindAccountAsync(account.Address, Ct));
        Assert.Null(await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct));
        Assert.Equal(1, await CountBlobsAsync());
        Assert.Equal(Body("shared"), await ReadAllAsync(await Store.Messages.OpenMessageAsync(shared.MessageId, Ct)));
        Assert.False(await Store.Directory.RemoveAccountAsync(account.Address, force: true, Ct));

        // An account without mail goes without force.
        var empty = await Store.Directory.AddAccountAsync("empty@example.test", "c", 0, Ct);
        Assert.True(await Store.Directory.RemoveAccountAsync(empty.Address, force: false, Ct));
    }

    [Fact]
    public async Task Removing_a_domain_with_accounts_needs_force_and_cascades()
    {
        var (_, inbox) = await NewAccountAsync();
        await Store.Directory.AddAliasAsync("al@example.test", ["user@example.test"], Ct);
        await DeliverAsync(Body("m"), [inbox.Id]);

        await Assert.ThrowsAsync<StoreConflictException>(() => Store.Directory.RemoveDomainAsync("example.test", force: false, Ct));
        Assert.True(await Store.Directory.RemoveDomainAsync("example.test", force: true, Ct));
        Assert.Null(await Store.Directory.FindDomainAsync("example.test", Ct));
        Assert.Empty(await Store.Directory.ListAccountsAsync(null, Ct));
        Assert.Empty(await Store.Directory.ListAliasesAsync(null, Ct));
        Assert.Equal(0, await CountBlobsAsync());
        Assert.False(await Store.Directory.RemoveDomainAsync("example.test", force: false, Ct));

        await Store.Directory.AddDomainAsync("empty.test", Ct);
        Assert.True(await Store.Directory.RemoveDomainAsync("empty.test", force: false, Ct));
    }

    // ---- mailboxes ----

    [Fact]
    public async Task Mailbox_create_rename_delete_and_inbox_case()
    {
        var (account, inbox) = await NewAccountAsync();
        Assert.Equal(inbox.Id, (await Store.Mailboxes.FindMailboxAsync(account.Id, "inbox", Ct))!.Id);
        var box = await Store.Mailboxes.CreateMailboxAsync(account.Id, "Projects/Pochta", SpecialUse.None, Ct);
        Assert.Equal("Projects/Pochta", box.Name);
        Assert.False(box.Subscribed);
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.Mailboxes.CreateMailboxAsync(account.Id, "Projects/Pochta", SpecialUse.None, Ct));
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.Mailboxes.CreateMailboxAsync(account.Id, "Inbox", SpecialUse.None, Ct));

        await DeliverAsync(Body("r"), [box.Id]);
        await Store.Mailboxes.RenameMailboxAsync(box.Id, "Archive/Pochta", Ct);
        var renamed = (await Store.Mailboxes.GetMailboxAsync(box.Id, Ct))!;
        Assert.Equal("Archive/Pochta", renamed.Name);
        Assert.Equal(box.UidValidity, renamed.UidValidity);
        Assert.Single(await Store.Mailboxes.ListMessagesAsync(box.Id, Ct));
        Assert.Null(await Store.Mailboxes.FindMailboxAsync(account.Id, "Projects/Pochta", Ct));
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.Mailboxes.RenameMailboxAsync(box.Id, "Sent", Ct));

        await Store.Mailboxes.DeleteMailboxAsync(box.Id, Ct);
        Assert.Null(await Store.Mailboxes.GetMailboxAsync(box.Id, Ct));
        Assert.Equal(0, await CountBlobsAsync());

        // Recreated under the same name: a new UIDVALIDITY, never an old one.
        var again = await Store.Mailboxes.CreateMailboxAsync(account.Id, "Archive/Pochta", SpecialUse.None, Ct);
        Assert.True(again.UidValidity > box.UidValidity);
    }

    [Fact]
    public async Task Renaming_inbox_moves_its_messages_and_keeps_inbox()
    {
        var (account, inbox) = await NewAccountAsync();
        await DeliverAsync(Body("1"), [inbox.Id]);
        await DeliverAsync(Body("2"), [inbox.Id]);
        await Store.Mailboxes.RenameMailboxAsync(inbox.Id, "Old", Ct);
        var old = (await Store.Mailboxes.FindMailboxAsync(account.Id, "Old", Ct))!;
        Assert.Equal([1u, 2u], (await Store.Mailboxes.ListMessagesAsync(old.Id, Ct)).Select(e => e.Uid));
        var after = (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!;
        Assert.Equal(inbox.UidValidity, after.UidValidity);
        Assert.Empty(await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct));
        Assert.Equal(3u, after.UidNext);
    }

    [Fact]
    public async Task Subscriptions_are_by_name()
    {
        var (account, _) = await NewAccountAsync();
        await Store.Mailboxes.SetSubscribedAsync(account.Id, "Does/Not/Exist", true, Ct);
        await Store.Mailboxes.SetSubscribedAsync(account.Id, "Junk", false, Ct);
        var subs = await Store.Mailboxes.ListSubscriptionsAsync(account.Id, Ct);
        Assert.Contains("Does/Not/Exist", subs);
        Assert.DoesNotContain("Junk", subs);
        Assert.False((await Store.Mailboxes.FindMailboxAsync(account.Id, "Junk", Ct))!.Subscribed);
        var created = await Store.Mailboxes.CreateMailboxAsync(account.Id, "Does/Not/Exist", SpecialUse.None, Ct);
        Assert.True(created.Subscribed);
    }

    [Fact]
    public async Task Uids_strictly_increase_and_are_never_reused_across_expunge_and_restart()
    {
        var (_, inbox) = await NewAccountAsync();
        var uids = new List<uint>();
        for (var i = 0; i < 5; i++)
        {
            uids.Add((await DeliverAsync(Body("m" + i), [inbox.Id])).Uids[0]);
        }

        Assert.Equal([1u, 2u, 3u, 4u, 5u], uids);
        await Store.Mailboxes.ExpungeAsync(inbox.Id, [4u, 5u], Ct);
        uids.Add((await DeliverAsync(Body("after-expunge"), [inbox.Id])).Uids[0]);
        Assert.Equal(6u, uids[^1]);

        await Store.Mailboxes.ExpungeAsync(inbox.Id, [6u], Ct);
        await RestartAsync();
        var after = (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!;
        Assert.Equal(7u, after.UidNext);
        Assert.Equal(7u, (await DeliverAsync(Body("after-restart"), [inbox.Id])).Uids[0]);
        Assert.Equal([1u, 2u, 3u, 7u], (await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct)).Select(e => e.Uid));
    }

    [Fact]
    public async Task UidValidity_is_stable_across_restart_and_fresh_per_mailbox()
    {
        var (account, inbox) = await NewAccountAsync();
        var before = await Store.Mailboxes.ListMailboxesAsync(account.Id, Ct);
        await RestartAsync();
        var after = await Store.Mailboxes.ListMailboxesAsync(account.Id, Ct);
        Assert.Equal(before.Select(b => (b.Id, b.UidValidity)), after.Select(b => (b.Id, b.UidValidity)));

        // Even with the clock going backwards, new mailboxes never repeat a value.
        Time.AdjustTime(Time.GetUtcNow().AddDays(-30));
        var created = await Store.Mailboxes.CreateMailboxAsync(account.Id, "New", SpecialUse.None, Ct);
        Assert.True(created.UidValidity > before.Max(b => b.UidValidity));
        Assert.Equal(inbox.UidValidity, (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!.UidValidity);
    }

    [Fact]
    public async Task Modseq_increases_on_every_change()
    {
        var (_, inbox) = await NewAccountAsync();
        var seen = new List<ulong> { inbox.HighestModSeq };
        async Task<ulong> Highest() => (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!.HighestModSeq;

        await DeliverAsync(Body("1"), [inbox.Id]);
        seen.Add(await Highest());
        await DeliverAsync(Body("2"), [inbox.Id]);
        seen.Add(await Highest());
        var store = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [1u], FlagOperation.Add, MessageFlags.Seen, [], null, Ct);
        seen.Add(store.HighestModSeq);
        Assert.Equal(store.HighestModSeq, await Highest());
        var keyword = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [2u], FlagOperation.Add, MessageFlags.None, ["$Label1"], null, Ct);
        seen.Add(keyword.HighestModSeq);
        var expunge = await Store.Mailboxes.ExpungeAsync(inbox.Id, [1u], Ct);
        seen.Add(expunge.HighestModSeq);
        var copy = await Store.Mailboxes.CopyAsync(inbox.Id, [2u], inbox.Id, Ct);
        seen.Add(await Highest());
        Assert.Single(copy.DestinationUids);

        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i] > seen[i - 1], $"modseq did not increase at step {i}: {string.Join(",", seen)}");
        }

        // A no-op store changes nothing and bumps nothing.
        var noop = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [2u], FlagOperation.Add, MessageFlags.None, ["$label1"], null, Ct);
        Assert.Equal(seen[^1], noop.HighestModSeq);
        Assert.Equal(keyword.Updated[0].ModSeq, Assert.Single(noop.Updated).ModSeq);
        Assert.Equal(seen[^1], await Highest());

        await RestartAsync();
        Assert.Equal(seen[^1], await Highest());
    }

    [Fact]
    public async Task Expunge_leaves_tombstones_seen_by_changes_since()
    {
        var (_, inbox) = await NewAccountAsync();
        for (var i = 0; i < 4; i++)
        {
            await DeliverAsync(Body("m" + i), [inbox.Id]);
        }

        var mark = (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!.HighestModSeq;
        await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [1u, 3u], FlagOperation.Add, MessageFlags.Deleted, [], null, Ct);
        var flagged = (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!.HighestModSeq;
        var result = await Store.Mailboxes.ExpungeAsync(inbox.Id, null, Ct);
        Assert.Equal([1u, 3u], result.Expunged);
        Assert.True(result.HighestModSeq > flagged);

        var changes = await Store.Mailboxes.GetChangesSinceAsync(inbox.Id, mark, Ct);
        Assert.Equal([1u, 3u], changes.Expunged);
        Assert.Empty(changes.Changed);
        Assert.Equal(result.HighestModSeq, changes.HighestModSeq);
        Assert.Equal(5u, changes.UidNext);

        var sinceFlags = await Store.Mailboxes.GetChangesSinceAsync(inbox.Id, flagged, Ct);
        Assert.Equal([1u, 3u], sinceFlags.Expunged);
        var none = await Store.Mailboxes.GetChangesSinceAsync(inbox.Id, result.HighestModSeq, Ct);
        Assert.Empty(none.Expunged);
        Assert.Empty(none.Changed);

        var all = await Store.Mailboxes.GetChangesSinceAsync(inbox.Id, 0, Ct);
        Assert.Equal([2u, 4u], all.Changed.Select(e => e.Uid));

        // Nothing to expunge: no modseq bump.
        var empty = await Store.Mailboxes.ExpungeAsync(inbox.Id, null, Ct);
        Assert.Empty(empty.Expunged);
        Assert.Equal(result.HighestModSeq, empty.HighestModSeq);
    }

    [Fact]
    public async Task Flags_and_keywords_add_remove_replace()
    {
        var (_, inbox) = await NewAccountAsync();
        await DeliverAsync(Body("1"), [inbox.Id], flags: MessageFlags.Draft);
        await DeliverAsync(Body("2"), [inbox.Id]);

        var r = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [1u, 2u, 99u], FlagOperation.Add, MessageFlags.Seen | MessageFlags.Flagged, ["Work", "$Forwarded"], null, Ct);
        Assert.Equal([1u, 2u], r.Updated.Select(e => e.Uid));
        Assert.Equal(MessageFlags.Draft | MessageFlags.Seen | MessageFlags.Flagged, r.Updated[0].Flags);
        Assert.Equal(["Work", "$Forwarded"], r.Updated[1].Keywords);

        r = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [1u], FlagOperation.Remove, MessageFlags.Flagged, ["work"], null, Ct);
        Assert.Equal(MessageFlags.Draft | MessageFlags.Seen, r.Updated[0].Flags);
        Assert.Equal(["$Forwarded"], r.Updated[0].Keywords);

        r = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [2u], FlagOperation.Replace, MessageFlags.Answered, ["Other"], null, Ct);
        Assert.Equal(MessageFlags.Answered, r.Updated[0].Flags);
        Assert.Equal(["Other"], r.Updated[0].Keywords);

        var list = await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct);
        Assert.Equal(MessageFlags.Draft | MessageFlags.Seen, list[0].Flags);
        Assert.Equal(["Other"], list[1].Keywords);
        Assert.Equal(r.Updated[0].ModSeq, list[1].ModSeq);
    }

    [Fact]
    public async Task Unchangedsince_skips_messages_modified_after_it()
    {
        var (_, inbox) = await NewAccountAsync();
        await DeliverAsync(Body("1"), [inbox.Id]);
        await DeliverAsync(Body("2"), [inbox.Id]);
        var before = await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct);
        var mark = before.Max(e => e.ModSeq);
        await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [2u], FlagOperation.Add, MessageFlags.Flagged, [], null, Ct);

        // RFC 7162 §3.1.3: UID 2 changed after `mark`, so it is reported, not touched.
        var r = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [1u, 2u], FlagOperation.Add, MessageFlags.Seen, [], mark, Ct);
        Assert.Equal([2u], r.Conflicts);
        Assert.Equal([1u], r.Updated.Select(e => e.Uid));
        var after = await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct);
        Assert.Equal(MessageFlags.Seen, after[0].Flags);
        Assert.Equal(MessageFlags.Flagged, after[1].Flags);

        // UNCHANGEDSINCE 0 fails every message (modseqs are positive).
        var zero = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [1u], FlagOperation.Add, MessageFlags.Answered, [], 0, Ct);
        Assert.Equal([1u], zero.Conflicts);
        Assert.Empty(zero.Updated);
    }

    [Fact]
    public async Task Copy_assigns_new_uids_in_order_and_keeps_flags()
    {
        var (account, inbox) = await NewAccountAsync();
        var archive = (await Store.Mailboxes.FindMailboxAsync(account.Id, "Archive", Ct))!;
        await DeliverAsync(Body("pre"), [archive.Id]);
        for (var i = 0; i < 4; i++)
        {
            await DeliverAsync(Body("m" + i), [inbox.Id], flags: i == 2 ? MessageFlags.Flagged : MessageFlags.None);
        }

        await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [3u], FlagOperation.Add, MessageFlags.None, ["Tag"], null, Ct);
        var copy = await Store.Mailboxes.CopyAsync(inbox.Id, [4u, 1u, 3u, 42u], archive.Id, Ct);
        Assert.Equal(archive.UidValidity, copy.DestinationUidValidity);
        Assert.Equal([1u, 3u, 4u], copy.SourceUids);
        Assert.Equal([2u, 3u, 4u], copy.DestinationUids);
        var dest = await Store.Mailboxes.ListMessagesAsync(archive.Id, Ct);
        Assert.Equal([1u, 2u, 3u, 4u], dest.Select(e => e.Uid));
        Assert.Equal(MessageFlags.Flagged, dest[2].Flags);
        Assert.Equal(["Tag"], dest[2].Keywords);
        var source = await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct);
        Assert.Equal(source[2].MessageId, dest[2].MessageId);
        Assert.Equal(4, source.Count);
        Assert.Equal(5, await CountBlobsAsync());

        var none = await Store.Mailboxes.CopyAsync(inbox.Id, [77u], archive.Id, Ct);
        Assert.Empty(none.DestinationUids);
    }

    [Fact]
    public async Task Move_copies_and_expunges_in_one_step()
    {
        var (account, inbox) = await NewAccountAsync();
        var trash = (await Store.Mailboxes.FindMailboxAsync(account.Id, "Trash", Ct))!;
        for (var i = 0; i < 3; i++)
        {
            await DeliverAsync(Body("m" + i), [inbox.Id]);
        }

        var mark = (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!.HighestModSeq;
        var move = await Store.Mailboxes.MoveAsync(inbox.Id, [1u, 3u], trash.Id, Ct);
        Assert.Equal([1u, 3u], move.SourceUids);
        Assert.Equal([1u, 2u], move.DestinationUids);
        Assert.Equal([2u], (await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct)).Select(e => e.Uid));
        Assert.Equal(2, (await Store.Mailboxes.ListMessagesAsync(trash.Id, Ct)).Count);
        Assert.Equal([1u, 3u], (await Store.Mailboxes.GetChangesSinceAsync(inbox.Id, mark, Ct)).Expunged);
        Assert.Equal(3, await CountBlobsAsync());
    }

    [Fact]
    public async Task Recent_is_claimed_once()
    {
        var (_, inbox) = await NewAccountAsync();
        await DeliverAsync(Body("1"), [inbox.Id]);
        await DeliverAsync(Body("2"), [inbox.Id]);
        Assert.Equal(2, (await Store.Mailboxes.GetCountsAsync(inbox.Id, Ct)).Recent);
        Assert.Equal(1u, await Store.Mailboxes.ClaimRecentAsync(inbox.Id, Ct));
        Assert.Equal(0, (await Store.Mailboxes.GetCountsAsync(inbox.Id, Ct)).Recent);
        Assert.Equal(3u, await Store.Mailboxes.ClaimRecentAsync(inbox.Id, Ct));
        await DeliverAsync(Body("3"), [inbox.Id]);
        Assert.Equal(1, (await Store.Mailboxes.GetCountsAsync(inbox.Id, Ct)).Recent);
        Assert.Equal(3u, await Store.Mailboxes.ClaimRecentAsync(inbox.Id, Ct));
        Assert.Equal(4u, await Store.Mailboxes.ClaimRecentAsync(inbox.Id, Ct));
    }

    [Fact]
    public async Task Counts_report_messages_unseen_deleted_and_size()
    {
        var (_, inbox) = await NewAccountAsync();
        var a = Body("a", 1000);
        var b = Body("b", 2500);
        await DeliverAsync(a, [inbox.Id], flags: MessageFlags.Seen);
        await DeliverAsync(b, [inbox.Id], flags: MessageFlags.Deleted);
        var counts = await Store.Mailboxes.GetCountsAsync(inbox.Id, Ct);
        Assert.Equal(new MailboxCounts(2, 1, 1, 3500, 2), counts);
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Mailboxes.GetCountsAsync(987654, Ct));
    }

    [Fact]
    public async Task Counts_follow_flags_expunge_copy_and_move()
    {
        var (account, inbox) = await NewAccountAsync();
        var trash = (await Store.Mailboxes.FindMailboxAsync(account.Id, "Trash", Ct))!;
        for (var i = 0; i < 6; i++)
        {
            await DeliverAsync(Body("c" + i, 1000 + i), [inbox.Id], flags: i % 2 == 0 ? MessageFlags.Seen : MessageFlags.None);
        }

        await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [1u, 2u], FlagOperation.Add, MessageFlags.Deleted, [], null, Ct);
        await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [3u, 4u], FlagOperation.Replace, MessageFlags.Seen, [], null, Ct);
        await Store.Mailboxes.StoreFlagsAsync(inbox.Id, [5u], FlagOperation.Remove, MessageFlags.Seen, [], null, Ct);
        await Store.Mailboxes.CopyAsync(inbox.Id, [1u, 6u], trash.Id, Ct);
        await Store.Mailboxes.MoveAsync(inbox.Id, [4u], trash.Id, Ct);
        await Store.Mailboxes.ExpungeAsync(inbox.Id, null, Ct);

        foreach (var box in new[] { inbox.Id, trash.Id })
        {
            var entries = await Store.Mailboxes.ListMessagesAsync(box, Ct);
            var counts = await Store.Mailboxes.GetCountsAsync(box, Ct);
            Assert.Equal(entries.Count, counts.Messages);
            Assert.Equal(entries.Count(e => !e.Flags.HasFlag(MessageFlags.Seen)), counts.Unseen);
            Assert.Equal(entries.Count(e => e.Flags.HasFlag(MessageFlags.Deleted)), counts.Deleted);
            Assert.Equal(entries.Sum(e => e.Size), counts.Size);
        }

        Assert.Equal([3u, 5u, 6u], (await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct)).Select(e => e.Uid));
        Assert.Equal(3, (await Store.Mailboxes.GetCountsAsync(trash.Id, Ct)).Messages);
        Assert.Equal(1, (await Store.Mailboxes.GetCountsAsync(trash.Id, Ct)).Deleted);
    }

    // ---- messages and blobs ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Same_blob_is_stored_once_and_freed_with_the_last_reference(bool large)
    {
        var (account, inbox) = await NewAccountAsync();
        var (_, other) = await NewAccountAsync("other@example.test");
        var archive = (await Store.Mailboxes.FindMailboxAsync(account.Id, "Archive", Ct))!;
        var body = Body("shared", large ? LargeMessageSize + 12345 : 3000);

        var first = await DeliverAsync(body, [inbox.Id, other.Id, archive.Id], [new QueuedRecipient("x@remote.test", null, null)]);
        Assert.Equal(3, first.Uids.Count);
        Assert.NotNull(first.QueueId);
        Assert.Equal(1, await CountBlobsAsync());
        foreach (var box in new[] { inbox.Id, other.Id, archive.Id })
        {
            Assert.Equal(first.MessageId, Assert.Single(await Store.Mailboxes.ListMessagesAsync(box, Ct)).MessageId);
        }

        // The same bytes in a second delivery share the body too.
        var second = await DeliverAsync(body, [inbox.Id]);
        Assert.Equal(1, await CountBlobsAsync());
        Assert.Equal(body, await ReadAllAsync(await Store.Messages.OpenMessageAsync(second.MessageId, Ct)));
        Assert.Equal("IDX"u8.ToArray(), (await Store.Messages.GetIndexAsync(first.MessageId, Ct)).ToArray());

        await Store.Mailboxes.ExpungeAsync(inbox.Id, [1u, 2u], Ct);
        await Store.Mailboxes.ExpungeAsync(other.Id, [1u], Ct);
        Assert.Equal(1, await CountBlobsAsync());
        await Store.Mailboxes.DeleteMailboxAsync(archive.Id, Ct);
        Assert.Equal(1, await CountBlobsAsync());
        Assert.Equal(body, await ReadAllAsync(await Store.Messages.OpenMessageAsync(first.MessageId, Ct)));

        // Last reference: the queue entry.
        Assert.True(await Store.Queue.DeleteAsync(first.QueueId!.Value, Ct));
        Assert.Equal(0, await CountBlobsAsync());
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Messages.OpenMessageAsync(first.MessageId, Ct));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Messages.GetIndexAsync(first.MessageId, Ct));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(-1)]
    public async Task Bodies_round_trip_with_their_sha256(int extra)
    {
        var (_, inbox) = await NewAccountAsync();
        var size = extra < 0 ? LargeMessageSize * 3 : LargeMessageSize + extra;
        var body = Body("rt", size);
        await using var staged = await StageAsync(body, chunk: 4093);
        Assert.Equal(body.Length, staged.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), staged.ContentHash);
        Assert.Equal(body, await ReadAllAsync(staged.OpenRead()));
        var result = await Store.Messages.CommitAsync(new DeliveryRequest(staged, new byte[] { 1, 2, 3 }, "", [new LocalDelivery(inbox.Id, MessageFlags.None, [], Time.GetUtcNow())], [], null), Ct);
        await using var stream = await Store.Messages.OpenMessageAsync(result.MessageId, Ct);
        Assert.True(stream.CanSeek);
        Assert.Equal(body, await ReadAllAsync(stream));
        Assert.Equal(body.Length, Assert.Single(await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct)).Size);
    }

    [Fact]
    public async Task A_staged_message_that_is_not_committed_leaves_nothing()
    {
        var (_, inbox) = await NewAccountAsync();
        await using (var staged = await StageAsync(Body("gone", LargeMessageSize * 2)))
        {
            Assert.True(staged.Length > LargeMessageSize);
        }

        var writer = Store.Messages.CreateWriter();
        await writer.WriteAsync(Body("partial", LargeMessageSize * 2), Ct);
        await writer.DisposeAsync();

        Assert.Equal(0, await CountBlobsAsync());
        Assert.Empty(await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct));
    }

    [Fact]
    public async Task A_failed_commit_changes_nothing()
    {
        var (_, inbox) = await NewAccountAsync();
        await using var staged = await StageAsync(Body("x", LargeMessageSize * 2));
        var request = new DeliveryRequest(staged, "I"u8.ToArray(), "", [new LocalDelivery(inbox.Id, MessageFlags.None, [], Time.GetUtcNow()), new LocalDelivery(424242, MessageFlags.None, [], Time.GetUtcNow())], [], null);
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Messages.CommitAsync(request, Ct));
        Assert.Empty(await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct));
        Assert.Equal(1u, (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!.UidNext);
        Assert.Equal(0, await CountBlobsAsync());

        // The staged body is still usable for a corrected commit.
        var ok = await Store.Messages.CommitAsync(request with { Local = [request.Local[0]] }, Ct);
        Assert.Equal([1u], ok.Uids);
        Assert.Equal(1, await CountBlobsAsync());
    }

    [Fact]
    public async Task Concurrent_commits_are_all_durable_with_distinct_uids()
    {
        var (_, inbox) = await NewAccountAsync();
        const int n = 50;
        var bodies = Enumerable.Range(0, n).Select(i => Body("c" + i, i % 10 == 0 ? LargeMessageSize + 10 : 2000)).ToArray();
        var staged = await Task.WhenAll(bodies.Select(b => StageAsync(b)));
        var results = await Task.WhenAll(staged.Select((s, i) => Task.Run(() => Store.Messages.CommitAsync(
            new DeliveryRequest(s, "I"u8.ToArray(), "", [new LocalDelivery(inbox.Id, MessageFlags.None, [], Time.GetUtcNow())], [], null), Ct))));
        foreach (var s in staged)
        {
            await s.DisposeAsync();
        }

        var uids = results.Select(r => r.Uids[0]).Order().ToList();
        Assert.Equal(Enumerable.Range(1, n).Select(i => (uint)i), uids);
        await RestartAsync();
        var entries = await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct);
        Assert.Equal(n, entries.Count);
        for (var i = 0; i < n; i++)
        {
            var entry = entries.Single(e => e.MessageId == results[i].MessageId);
            Assert.Equal(results[i].Uids[0], entry.Uid);
            Assert.Equal(bodies[i], await ReadAllAsync(await Store.Messages.OpenMessageAsync(entry.MessageId, Ct)));
        }

        Assert.Equal(n, await CountBlobsAsync());
    }

    [Fact]
    public async Task Concurrent_flag_stores_all_apply()
    {
        var (_, inbox) = await NewAccountAsync();
        for (var i = 0; i < 10; i++)
        {
            await DeliverAsync(Body("f" + i), [inbox.Id]);
        }

        await Task.WhenAll(Enumerable.Range(1, 10).Select(uid => Task.Run(() =>
            Store.Mailboxes.StoreFlagsAsync(inbox.Id, [(uint)uid], FlagOperation.Add, MessageFlags.None, ["k" + uid], null, Ct))));
        var entries = await Store.Mailboxes.ListMessagesAsync(inbox.Id, Ct);
        Assert.All(entries, e => Assert.Equal(["k" + e.Uid], e.Keywords));
        Assert.Equal(10, entries.Select(e => e.ModSeq).Distinct().Count());
    }

    // ---- queue ----

    [Fact]
    public async Task Queue_lifecycle_per_recipient()
    {
        var (_, inbox) = await NewAccountAsync();
        var body = Body("out", 2000);
        await using var staged = await StageAsync(body);
        var result = await Store.Messages.CommitAsync(new DeliveryRequest(
            staged,
            "I"u8.ToArray(),
            "user@example.test",
            [new LocalDelivery(inbox.Id, MessageFlags.Seen, [], Time.GetUtcNow())],
            [new QueuedRecipient("a@remote.test", "SUCCESS,FAILURE", "rfc822;a@remote.test"), new QueuedRecipient("b@remote.test", null, null)],
            new DsnEnvelope("env-1", true)), Ct);
        var queueId = result.QueueId!.Value;

        var entry = (await Store.Queue.GetAsync(queueId, Ct))!;
        Assert.Equal(result.MessageId, entry.MessageId);
        Assert.Equal("user@example.test", entry.Sender);
        Assert.Equal("env-1", entry.EnvelopeId);
        Assert.True(entry.ReturnFullMessage);
        Assert.Equal(Time.GetUtcNow(), entry.CreatedAt);
        Assert.Equal(["a@remote.test", "b@remote.test"], entry.Recipients.Select(r => r.Address));
        var a = entry.Recipients[0];
        Assert.Equal(("SUCCESS,FAILURE", "rfc822;a@remote.test", RecipientState.Queued, 0), (a.Notify, a.OriginalRecipient, a.State, a.Attempts));
        Assert.Single(await Store.Queue.ListAsync(Ct));

        var now = Time.GetUtcNow();
        Assert.Equal(queueId, Assert.Single(await Store.Queue.GetDueAsync(now, 10, Ct)).Id);
        Assert.Equal(now, await Store.Queue.GetNextDueAsync(Ct));

        // a delivered, b deferred for an hour.
        var later = now.AddHours(1);
        await Store.Queue.RecordOutcomesAsync(queueId, [
            new RecipientOutcome(entry.Recipients[0].Id, RecipientState.Delivered, "250 ok", "mx.remote.test", null, false),
            new RecipientOutcome(entry.Recipients[1].Id, RecipientState.Deferred, "451 later", "mx.remote.test", later, true),
        ], Ct);
        entry = (await Store.Queue.GetAsync(queueId, Ct))!;
        Assert.Equal(RecipientState.Delivered, entry.Recipients[0].State);
        var b = entry.Recipients[1];
        Assert.Equal((RecipientState.Deferred, 1, later, "451 later", "mx.remote.test", true), (b.State, b.Attempts, b.NextAttemptAt!.Value, b.LastReply, b.RemoteHost, b.DelayNotified));
        Assert.Empty(await Store.Queue.GetDueAsync(now, 10, Ct));
        Assert.Single(await Store.Queue.GetDueAsync(later, 10, Ct));
        Assert.Equal(later, await Store.Queue.GetNextDueAsync(Ct));

        Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, await Store.Queue.RescheduleNowAsync(null, Ct));
        Assert.Single(await Store.Queue.GetDueAsync(Time.GetUtcNow(), 10, Ct));

        // b fails for good: every recipient final, the entry leaves; the local copy keeps the body.
        await Store.Queue.RecordOutcomesAsync(queueId, [new RecipientOutcome(b.Id, RecipientState.Failed, "550 no", "mx.remote.test", null, true)], Ct);
        Assert.Null(await Store.Queue.GetAsync(queueId, Ct));
        Assert.Empty(await Store.Queue.ListAsync(Ct));
        Assert.Null(await Store.Queue.GetNextDueAsync(Ct));
        Assert.Equal(body, await ReadAllAsync(await Store.Messages.OpenMessageAsync(result.MessageId, Ct)));
        Assert.Equal(1, await CountBlobsAsync());
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Queue.RecordOutcomesAsync(queueId, [], Ct));
    }

    [Fact]
    public async Task Queue_only_message_is_freed_when_the_entry_completes()
    {
        var body = Body("remote-only", LargeMessageSize + 1);
        await using var staged = await StageAsync(body);
        var result = await Store.Messages.CommitAsync(new DeliveryRequest(staged, "I"u8.ToArray(), "", [], [new QueuedRecipient("x@remote.test", null, null)], null), Ct);
        Assert.Empty(result.Uids);
        var entry = (await Store.Queue.GetAsync(result.QueueId!.Value, Ct))!;
        Assert.Equal(1, await CountBlobsAsync());
        Assert.Equal(0, await Store.Queue.RescheduleNowAsync(424242, Ct));
        Assert.Equal(1, await Store.Queue.RescheduleNowAsync(entry.Id, Ct));
        await Store.Queue.RecordOutcomesAsync(entry.Id, [new RecipientOutcome(entry.Recipients[0].Id, RecipientState.Delivered, "250", "mx", null, false)], Ct);
        Assert.Equal(0, await CountBlobsAsync());
        await Assert.ThrowsAsync<StoreNotFoundException>(() => Store.Messages.OpenMessageAsync(result.MessageId, Ct));
        Assert.False(await Store.Queue.DeleteAsync(entry.Id, Ct));
    }

    [Fact]
    public async Task Due_entries_are_ordered_and_limited()
    {
        var (_, inbox) = await NewAccountAsync();
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await DeliverAsync(Body("q" + i), [inbox.Id], [new QueuedRecipient($"r{i}@remote.test", null, null)])).QueueId!.Value);
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var due = await Store.Queue.GetDueAsync(Time.GetUtcNow(), 2, Ct);
        Assert.Equal(ids.Take(2), due.Select(e => e.Id));
        Assert.Equal(3, (await Store.Queue.ListAsync(Ct)).Count);
    }

    // ---- change bus ----

    [Fact]
    public async Task Changes_are_published_after_commit()
    {
        var (account, inbox) = await NewAccountAsync();
        var (other, _) = await NewAccountAsync("other@example.test");
        var events = new List<MailboxChange>();
        var otherEvents = new List<MailboxChange>();
        var subscription = Store.Changes.Subscribe(account.Id, c =>
        {
            lock (events)
            {
                events.Add(c);
            }
        });
        using var otherSubscription = Store.Changes.Subscribe(other.Id, otherEvents.Add);

        var delivered = await DeliverAsync(Body("1"), [inbox.Id]);
        var appendedModSeq = (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!.HighestModSeq;
        var flags = await Store.Mailboxes.StoreFlagsAsync(inbox.Id, delivered.Uids, FlagOperation.Add, MessageFlags.Seen, [], null, Ct);
        var expunged = await Store.Mailboxes.ExpungeAsync(inbox.Id, delivered.Uids, Ct);
        var created = await Store.Mailboxes.CreateMailboxAsync(account.Id, "Lists", SpecialUse.None, Ct);

        lock (events)
        {
            Assert.Equal(
                [
                    new MailboxChange(account.Id, inbox.Id, MailboxChangeKind.Appended, appendedModSeq),
                    new MailboxChange(account.Id, inbox.Id, MailboxChangeKind.FlagsChanged, flags.HighestModSeq),
                    new MailboxChange(account.Id, inbox.Id, MailboxChangeKind.Expunged, expunged.HighestModSeq),
                ],
                events.Take(3));
            Assert.Equal((created.Id, MailboxChangeKind.MailboxListChanged), (events[3].MailboxId, events[3].Kind));
        }

        Assert.Empty(otherEvents);
        subscription.Dispose();
        await DeliverAsync(Body("2"), [inbox.Id]);
        lock (events)
        {
            Assert.Equal(4, events.Count);
        }

        // A failed write publishes nothing.
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.Mailboxes.CreateMailboxAsync(other.Id, "INBOX", SpecialUse.None, Ct));
        Assert.Empty(otherEvents);
    }

    [Fact]
    public async Task Move_publishes_appended_and_expunged()
    {
        var (account, inbox) = await NewAccountAsync();
        var trash = (await Store.Mailboxes.FindMailboxAsync(account.Id, "Trash", Ct))!;
        await DeliverAsync(Body("m"), [inbox.Id]);
        var events = new List<MailboxChange>();
        using (Store.Changes.Subscribe(account.Id, c =>
        {
            lock (events)
            {
                events.Add(c);
            }
        }))
        {
            await Store.Mailboxes.MoveAsync(inbox.Id, [1u], trash.Id, Ct);
        }

        var trashAfter = (await Store.Mailboxes.GetMailboxAsync(trash.Id, Ct))!;
        var inboxAfter = (await Store.Mailboxes.GetMailboxAsync(inbox.Id, Ct))!;
        lock (events)
        {
            Assert.Equal(
                [
                    new MailboxChange(account.Id, trash.Id, MailboxChangeKind.Appended, trashAfter.HighestModSeq),
                    new MailboxChange(account.Id, inbox.Id, MailboxChangeKind.Expunged, inboxAfter.HighestModSeq),
                ],
                events);
        }
    }

    [Fact]
    public async Task A_cancelled_write_does_nothing()
    {
        var (account, _) = await NewAccountAsync();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.Mailboxes.CreateMailboxAsync(account.Id, "Never", SpecialUse.None, cts.Token));
        Assert.Null(await Store.Mailboxes.FindMailboxAsync(account.Id, "Never", Ct));
    }

    [Fact]
    public async Task Event_is_visible_to_a_reader_when_it_arrives()
    {
        var (account, inbox) = await NewAccountAsync();
        var seen = new TaskCompletionSource<MailboxChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = Store.Changes.Subscribe(account.Id, c => seen.TrySetResult(c));
        var deliver = DeliverAsync(Body("v"), [inbox.Id]);
        var change = await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var changes = await Store.Mailboxes.GetChangesSinceAsync(inbox.Id, 0, Ct);
        Assert.Equal(change.ModSeq, changes.HighestModSeq);
        Assert.Single(changes.Changed);
        await deliver;
    }
}