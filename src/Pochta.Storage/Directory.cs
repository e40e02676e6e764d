namespace Pochta.Storage;

public sealed record DomainInfo(long Id, string Name, DateTimeOffset CreatedAt);

/// <param name="Address">Canonical lower-case address (<c>EmailAddress.Key</c>).</param>
/// <param name="QuotaBytes">0 means unlimited.</param>
public sealed record AccountInfo(long Id, string Address, long DomainId, long QuotaBytes, bool Disabled, DateTimeOffset CreatedAt);

/// <param name="Source">Canonical address, or <c>@domain</c> for a catch-all.</param>
/// <param name="Targets">Canonical addresses (local or remote).</param>
public sealed record AliasInfo(long Id, string Source, IReadOnlyList<string> Targets);

/// <summary>Thrown when an operation would break an invariant the caller must decide about
/// (a duplicate name, removing a domain or user that still owns mail without force).</summary>
public sealed class StoreConflictException(string message) : Exception(message);

/// <summary>Thrown when the named object does not exist.</summary>
public sealed class StoreNotFoundException(string message) : Exception(message);

/// <summary>
/// Domains, accounts and aliases. Addresses given to and returned by this contract are
/// canonical (lower case); callers normalise with <c>EmailAddress.Key</c>.
/// Credentials are opaque strings produced by Pochta.Sasl; the store never sees a password.
/// </summary>
public interface IDirectoryStore
{
    Task<DomainInfo> AddDomainAsync(string name, CancellationToken cancellationToken);

    Task<DomainInfo?> FindDomainAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<DomainInfo>> ListDomainsAsync(CancellationToken cancellationToken);

    /// <summary>Removes a domain. Without <paramref name="force"/> a domain that still has
    /// accounts or aliases raises <see cref="StoreConflictException"/>; with it, its accounts,
    /// their mail and its aliases go too. Returns false when the domain does not exist.</summary>
    Task<bool> RemoveDomainAsync(string name, bool force, CancellationToken cancellationToken);

    /// <summary>Creates the account and its default mailboxes (INBOX, Drafts, Sent, Junk,
    /// Trash, Archive with their special-use attributes) in one transaction.</summary>
    Task<AccountInfo> AddAccountAsync(string address, string credential, long quotaBytes, CancellationToken cancellationToken);

    Task<AccountInfo?> FindAccountAsync(string address, CancellationToken cancellationToken);

    Task<AccountInfo?> GetAccountAsync(long accountId, CancellationToken cancellationToken);

    Task<IReadOnlyList<AccountInfo>> ListAccountsAsync(string? domain, CancellationToken cancellationToken);

    /// <summary>The stored credential string, or null when the account does not exist.</summary>
    Task<string?> GetCredentialAsync(string address, CancellationToken cancellationToken);

    Task SetCredentialAsync(string address, string credential, CancellationToken cancellationToken);

    /// <summary>Replaces the credential only while it is still <paramref name="expected"/>
    /// (compare-and-swap: a rehash at login never overwrites a password changed meanwhile).
    /// Returns false when the account is absent or its credential differs.</summary>
    Task<bool> ReplaceCredentialAsync(string address, string expected, string replacement, CancellationToken cancellationToken);

    /// <summary>Sets an account's limits (0 = unlimited). Existing mail is never removed: an
    /// account over its new limit only refuses further growth. Raises
    /// <see cref="StoreNotFoundException"/> when the account does not exist.</summary>
    Task SetQuotaAsync(string address, long quotaBytes, long quotaMessages, CancellationToken cancellationToken);

    /// <summary>The account's usage (kept in the same transaction as every change of its
    /// mailboxes) and limits, or null when the account does not exist.</summary>
    Task<QuotaUsage?> GetQuotaUsageAsync(long accountId, CancellationToken cancellationToken);

    /// <summary>Removes an account. Without <paramref name="force"/> an account that owns any
    /// message raises <see cref="StoreConflictException"/>. Returns false when absent.</summary>
    Task<bool> RemoveAccountAsync(string address, bool force, CancellationToken cancellationToken);

    /// <summary>Adds targets to an alias (creating it). Source is an address or <c>@domain</c>
    /// (catch-all); its domain must be a local domain.</summary>
    Task<AliasInfo> AddAliasAsync(string source, IReadOnlyList<string> targets, CancellationToken cancellationToken);

    Task<AliasInfo?> FindAliasAsync(string source, CancellationToken cancellationToken);

    Task<IReadOnlyList<AliasInfo>> ListAliasesAsync(string? domain, CancellationToken cancellationToken);

    /// <summary>Removes one target, or the whole alias when <paramref name="target"/> is null.</summary>
    Task<bool> RemoveAliasAsync(string source, string? target, CancellationToken cancellationToken);
}