using Microsoft.Extensions.Options;

using Pochta.Core;
using Pochta.Delivery.Inbound;
using Pochta.Smtp.Tests.Support;

namespace Pochta.Smtp.Tests;

public class RecipientResolverTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static async Task<(RecipientResolver Resolver, MemoryMailStore Store, long Alice, long Bob)> CreateAsync(InboundOptions? options = null)
    {
        var store = new MemoryMailStore();
        await store.AddDomainAsync("example.org", Ct);
        await store.AddDomainAsync("other.example", Ct);
        var alice = await store.AddAccountAsync("alice@example.org", "x", 0, Ct);
        var bob = await store.AddAccountAsync("bob@example.org", "x", 0, Ct);
        await store.AddAliasAsync("team@example.org", ["alice@example.org", "bob@example.org", "ext@remote.example", "ALICE@example.org"], Ct);
        await store.AddAliasAsync("nested@example.org", ["team@example.org", "nested@example.org"], Ct);
        await store.AddAliasAsync("@other.example", ["bob@example.org"], Ct);
        await store.AddAliasAsync("dangling@example.org", ["missing@example.org"], Ct);
        for (var i = 0; i < 10; i++)
        {
            await store.AddAliasAsync($"chain{i}@example.org", [i == 9 ? "alice@example.org" : $"chain{i + 1}@example.org"], Ct);
        }

        return (new RecipientResolver(store, Options.Create(options ?? new InboundOptions())), store, alice.Id, bob.Id);
    }

    [Fact]
    public async Task Alias_with_several_targets_and_self_reference()
    {
        var (resolver, _, alice, bob) = await CreateAsync();
        var team = await resolver.ResolveAsync(EmailAddress.Parse("nested+tag@Example.org"), Ct);
        Assert.Equal(RecipientKind.Local, team.Kind);
        Assert.Equal(new[] { alice, bob }, team.Accounts.Select(a => a.Id).Order());
        Assert.Equal(["ext@remote.example"], team.RemoteAddresses);
    }

    [Fact]
    public async Task Depth_limit_and_dangling_targets()
    {
        var (resolver, _, alice, _) = await CreateAsync();
        Assert.Equal(RecipientKind.AliasLoop, (await resolver.ResolveAsync(EmailAddress.Parse("chain0@example.org"), Ct)).Kind);
        var shallow = await resolver.ResolveAsync(EmailAddress.Parse("chain3@example.org"), Ct);
        Assert.Equal(alice, Assert.Single(shallow.Accounts).Id);
        Assert.Equal(RecipientKind.AliasLoop, (await resolver.ResolveAsync(EmailAddress.Parse("dangling@example.org"), Ct)).Kind);

        var (deep, _, _, _) = await CreateAsync(new InboundOptions { MaxAliasDepth = 20 });
        Assert.Equal(RecipientKind.Local, (await deep.ResolveAsync(EmailAddress.Parse("chain0@example.org"), Ct)).Kind);
    }

    [Fact]
    public async Task Catch_all_unknown_remote_and_plus_addressing_switch()
    {
        var (resolver, _, _, bob) = await CreateAsync();
        Assert.Equal(bob, Assert.Single((await resolver.ResolveAsync(EmailAddress.Parse("anyone@other.example"), Ct)).Accounts).Id);
        Assert.Equal(RecipientKind.Unknown, (await resolver.ResolveAsync(EmailAddress.Parse("nobody@example.org"), Ct)).Kind);
        var remote = await resolver.ResolveAsync(EmailAddress.Parse("X@Remote.Example"), Ct);
        Assert.Equal((RecipientKind.Remote, "x@remote.example"), (remote.Kind, Assert.Single(remote.RemoteAddresses)));
        Assert.Equal(RecipientKind.Local, (await resolver.ResolveAsync(EmailAddress.Parse("alice+lists@example.org"), Ct)).Kind);

        var (strict, _, _, _) = await CreateAsync(new InboundOptions { RecipientDelimiter = "" });
        Assert.Equal(RecipientKind.Unknown, (await strict.ResolveAsync(EmailAddress.Parse("alice+lists@example.org"), Ct)).Kind);
    }

    [Fact]
    public async Task Send_as_own_address_and_aliases_that_reach_the_account_but_not_catch_all()
    {
        var (resolver, _, alice, bob) = await CreateAsync();
        Assert.True(await resolver.MaySendAsAsync(alice, "alice@example.org", EmailAddress.Parse("Alice@example.org"), Ct));
        Assert.True(await resolver.MaySendAsAsync(alice, "alice@example.org", EmailAddress.Parse("alice+x@example.org"), Ct));
        Assert.True(await resolver.MaySendAsAsync(alice, "alice@example.org", EmailAddress.Parse("team@example.org"), Ct));
        Assert.False(await resolver.MaySendAsAsync(alice, "alice@example.org", EmailAddress.Parse("bob@example.org"), Ct));
        Assert.False(await resolver.MaySendAsAsync(alice, "alice@example.org", EmailAddress.Parse("x@remote.example"), Ct));
        Assert.Contains((await resolver.ResolveAsync(EmailAddress.Parse("any@other.example"), Ct)).Accounts, a => a.Id == bob);
        Assert.False(await resolver.MaySendAsAsync(bob, "bob@example.org", EmailAddress.Parse("any@other.example"), Ct));
    }
}