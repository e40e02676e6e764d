using Pochta.Storage;

namespace Pochta.Sasl.Tests;

/// <summary>In-memory directory: accounts and credentials only; records every lookup.</summary>
internal sealed class FakeDirectory : IDirectoryStore
{
    private readonly Dictionary<string, (AccountInfo Account, string Credential)> _accounts = new(StringComparer.Ordinal);

    public List<string> Calls { get; } = [];

    /// <summary>Runs inside a compare-and-swap before the comparison (a concurrent change).</summary>
    public Action? BeforeReplace { get; set; }

    public AccountInfo Add(string address, string credential, bool disabled = false)
    {
        var account = new AccountInfo(_accounts.Count + 1, address, 1, 0, disabled, DateTimeOffset.UnixEpoch);
        _accounts[address] = (account, credential);
        return account;
    }

    public Task<string?> GetCredentialAsync(string address, CancellationToken cancellationToken)
    {
        Calls.Add("credential");
        return Task.FromResult(_accounts.TryGetValue(address, out var entry) ? entry.Credential : null);
    }

    public Task<AccountInfo?> FindAccountAsync(string address, CancellationToken cancellationToken)
    {
        Calls.Add("account");
        return Task.FromResult(_accounts.TryGetValue(address, out var entry) ? entry.Account : null);
    }

    public Task<DomainInfo> AddDomainAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<DomainInfo?> FindDomainAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<DomainInfo>> ListDomainsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> RemoveDomainAsync(string name, bool force, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<AccountInfo> AddAccountAsync(string address, string credential, long quotaBytes, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<AccountInfo?> GetAccountAsync(long accountId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<AccountInfo>> ListAccountsAsync(string? domain, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task SetCredentialAsync(string address, string credential, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> ReplaceCredentialAsync(string address, string expected, string replacement, CancellationToken cancellationToken)
    {
        Calls.Add("replace");
        BeforeReplace?.Invoke();
        if (!_accounts.TryGetValue(address, out var entry) || !string.Equals(entry.Credential, expected, StringComparison.Ordinal))
        {
            return Task.FromResult(false);
        }

        _accounts[address] = (entry.Account, replacement);
        return Task.FromResult(true);
    }

    /// <summary>Changes a credential behind the authenticator's back (a concurrent password change).</summary>
    public void Replace(string address, string credential) => _accounts[address] = (_accounts[address].Account, credential);

    public string CredentialOf(string address) => _accounts[address].Credential;

    public Task<bool> RemoveAccountAsync(string address, bool force, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task SetQuotaAsync(string address, long quotaBytes, long quotaMessages, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<QuotaUsage?> GetQuotaUsageAsync(long accountId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<AliasInfo> AddAliasAsync(string source, IReadOnlyList<string> targets, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<AliasInfo?> FindAliasAsync(string source, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<AliasInfo>> ListAliasesAsync(string? domain, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> RemoveAliasAsync(string source, string? target, CancellationToken cancellationToken) => throw new NotSupportedException();
}

internal sealed class FakeMailStore(IDirectoryStore directory) : IMailStore
{
    public IDirectoryStore Directory => directory;

    public IMailboxStore Mailboxes => throw new NotSupportedException();

    public IMessageStore Messages => throw new NotSupportedException();

    public IQueueStore Queue => throw new NotSupportedException();

    public IChangeBus Changes => throw new NotSupportedException();

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal static class TestData
{
    /// <summary>Low PBKDF2 work for speed; production uses <see cref="PasswordCredential.DefaultIterations"/>.</summary>
    public const int Iterations = 64;

    public static (Authenticator Authenticator, FakeDirectory Directory) Create(Func<string>? serverNonce = null)
    {
        var directory = new FakeDirectory();
        directory.Add("alice@example.org", PasswordCredential.Create("correct horse", Iterations));
        directory.Add("bob@example.org", PasswordCredential.Create("bob-pass", Iterations), disabled: true);
        return (new Authenticator(directory, Iterations, serverNonce), directory);
    }

    public static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    public static string Text(ReadOnlyMemory<byte> data) => System.Text.Encoding.UTF8.GetString(data.Span);
}