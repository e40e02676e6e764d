using Microsoft.Extensions.Options;

using Pochta.Core;
using Pochta.Storage;

namespace Pochta.Delivery.Inbound;

public enum RecipientKind
{
    /// <summary>Delivered to one or more local accounts (and possibly remote alias targets).</summary>
    Local,

    /// <summary>The domain is not local: the message must be relayed.</summary>
    Remote,

    /// <summary>A local domain, but no account, alias or catch-all matches (550 5.1.1).</summary>
    Unknown,

    /// <summary>Every matching account is disabled (550 5.2.1).</summary>
    Disabled,

    /// <summary>Alias expansion looped, went too deep or too wide and produced nothing usable (550 5.4.6).</summary>
    AliasLoop,
}

/// <summary>Where one envelope recipient goes after alias expansion.</summary>
/// <param name="Accounts">Distinct local accounts that receive a copy.</param>
/// <param name="RemoteAddresses">Remote targets (canonical), including alias targets in other domains.</param>
public sealed record RecipientResolution(RecipientKind Kind, IReadOnlyList<AccountInfo> Accounts, IReadOnlyList<string> RemoteAddresses);

/// <summary>
/// Resolves envelope recipients against the directory. For an address in a local domain the
/// order is: alias of the exact address → account → the same two for the address without its
/// <c>+tag</c> → the domain's catch-all (<c>@domain</c>). Alias targets are resolved the same
/// way, recursively, with a visited set (a cycle ends silently) and a depth limit.
/// </summary>
public sealed class RecipientResolver(IMailStore store, IOptions<InboundOptions> options)
{
    private readonly InboundOptions _options = options.Value;

    public async Task<bool> IsLocalDomainAsync(string domain, CancellationToken cancellationToken) =>
        await store.Directory.FindDomainAsync(domain, cancellationToken) is not null;

    public async Task<RecipientResolution> ResolveAsync(EmailAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!await IsLocalDomainAsync(address.Domain, cancellationToken))
        {
            return new RecipientResolution(RecipientKind.Remote, [], [address.Key]);
        }

        var state = new Expansion();
        var found = await ExpandAsync(address, 0, state, useCatchAll: true, cancellationToken);
        if (!found)
        {
            return new RecipientResolution(RecipientKind.Unknown, [], []);
        }

        var enabled = state.Accounts.Values.Where(a => !a.Disabled).ToList();
        if (enabled.Count == 0 && state.Remote.Count == 0)
        {
            return new RecipientResolution(state.Accounts.Count > 0 && !state.Overflow ? RecipientKind.Disabled : RecipientKind.AliasLoop, [], []);
        }

        return new RecipientResolution(RecipientKind.Local, enabled, [.. state.Remote]);
    }

    /// <summary>
    /// Submission policy: may the authenticated account use <paramref name="sender"/> as its
    /// envelope sender? Yes for its own address (with or without a <c>+tag</c>) and for an alias
    /// whose expansion reaches the account. Catch-alls do not count.
    /// </summary>
    public async Task<bool> MaySendAsAsync(long accountId, string accountAddress, EmailAddress sender, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        if (sender.Key == accountAddress || Strip(sender).Key == accountAddress)
        {
            return true;
        }

        if (!await IsLocalDomainAsync(sender.Domain, cancellationToken))
        {
            return false;
        }

        var state = new Expansion();
        return await ExpandAsync(sender, 0, state, useCatchAll: false, cancellationToken) && state.Accounts.ContainsKey(accountId);
    }

    private EmailAddress Strip(EmailAddress address) =>
        _options.RecipientDelimiter.Length == 1 ? address.WithoutTag(_options.RecipientDelimiter[0]) : address;

    private sealed class Expansion
    {
        public Dictionary<long, AccountInfo> Accounts { get; } = [];

        public List<string> Remote { get; } = [];

        public HashSet<string> Visited { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, bool> LocalDomains { get; } = new(StringComparer.Ordinal);

        public bool Overflow { get; set; }

        public int Count => Accounts.Count + Remote.Count;
    }

    /// <summary>True when the address matched something (even if expansion then yielded nothing new).</summary>
    private async Task<bool> ExpandAsync(EmailAddress address, int depth, Expansion state, bool useCatchAll, CancellationToken cancellationToken)
    {
        if (!state.Visited.Add(address.Key))
        {
            return true;
        }

        if (!await IsLocalAsync(address.Domain, state, cancellationToken))
        {
            if (state.Count >= _options.MaxExpandedRecipients)
            {
                state.Overflow = true;
            }
            else if (!state.Remote.Contains(address.Key))
            {
                state.Remote.Add(address.Key);
            }

            return true;
        }

        if (await MatchAsync(address, depth, state, cancellationToken))
        {
            return true;
        }

        var stripped = Strip(address);
        if (!ReferenceEquals(stripped, address) && await MatchAsync(stripped, depth, state, cancellationToken))
        {
            return true;
        }

        if (useCatchAll &&
            await store.Directory.FindAliasAsync("@" + address.Domain, cancellationToken) is { } catchAll)
        {
            await ExpandTargetsAsync(catchAll, depth, state, cancellationToken);
            return true;
        }

        return false;
    }

    private async Task<bool> MatchAsync(EmailAddress address, int depth, Expansion state, CancellationToken cancellationToken)
    {
        if (await store.Directory.FindAliasAsync(address.Key, cancellationToken) is { } alias)
        {
            await ExpandTargetsAsync(alias, depth, state, cancellationToken);
            return true;
        }

        if (await store.Directory.FindAccountAsync(address.Key, cancellationToken) is { } account)
        {
            if (state.Count >= _options.MaxExpandedRecipients)
            {
                state.Overflow = true;
            }
            else
            {
                state.Accounts.TryAdd(account.Id, account);
            }

            return true;
        }

        return false;
    }

    private async Task ExpandTargetsAsync(AliasInfo alias, int depth, Expansion state, CancellationToken cancellationToken)
    {
        if (depth + 1 > _options.MaxAliasDepth)
        {
            state.Overflow = true;
            return;
        }

        foreach (var target in alias.Targets)
        {
            if (EmailAddress.TryParse(target, out var t))
            {
                // Targets of a catch-all or alias never fall through to another catch-all:
                // a mistyped target is dropped instead of silently landing somewhere else.
                await ExpandAsync(t, depth + 1, state, useCatchAll: false, cancellationToken);
            }
        }
    }

    private async Task<bool> IsLocalAsync(string domain, Expansion state, CancellationToken cancellationToken)
    {
        if (!state.LocalDomains.TryGetValue(domain, out var local))
        {
            local = await IsLocalDomainAsync(domain, cancellationToken);
            state.LocalDomains[domain] = local;
        }

        return local;
    }
}