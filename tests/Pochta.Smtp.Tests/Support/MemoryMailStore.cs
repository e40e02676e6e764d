using System.Security.Cryptography;

using Pochta.Core;
using Pochta.Storage;

namespace Pochta.Smtp.Tests.Support;

/// <summary>
/// An in-memory stand-in for the parts of IMailStore SMTP uses (directory, INBOX lookup, message
/// writer and commit), with a switch that makes commits fail. Transcript tests also run against
/// the real SqliteMailStore; this one serves the failure-injection cases.
/// </summary>
internal sealed class MemoryMailStore : IMailStore, IDirectoryStore, IMailboxStore, IMessageStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DomainInfo> _domains = [];
    private readonly Dictionary<string, AccountInfo> _accounts = [];
    private readonly Dictionary<string, AliasInfo> _aliases = [];
    private readonly Dictionary<string, string> _credentials = [];
    private long _nextId = 1;

    public IDirectoryStore Directory => this;

    public IMailboxStore Mailboxes => this;

    public IMessageStore Messages => this;

    public IQueueStore Queue => throw new NotSupportedException();

    public IChangeBus Changes => throw new NotSupportedException();

    public List<(DeliveryRequest Request, byte[] Bytes)> Commits { get; } = [];

    public bool FailCommits { get; set; }

    public int OpenWriters;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public Task<DomainInfo> AddDomainAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var d = new DomainInfo(_nextId++, name, DateTimeOffset.UnixEpoch);
            _domains[name] = d;
            return Task.FromResult(d);
        }
    }

    public Task<DomainInfo?> FindDomainAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_domains.GetValueOrDefault(name));
        }
    }

    public Task<IReadOnlyList<DomainInfo>> ListDomainsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> RemoveDomainAsync(string name, bool force, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<AccountInfo> AddAccountAsync(string address, string credential, long quotaBytes, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var a = new AccountInfo(_nextId++, address, 0, quotaBytes, false, DateTimeOffset.UnixEpoch);
            _accounts[address] = a;
            _credentials[address] = credential;
            return Task.FromResult(a);
        }
    }

    public void Disable(string address)
    {
        lock (_lock)
        {
            _accounts[address] = _accounts[address] with { Disabled = true };
        }
    }

    public Task<AccountInfo?> FindAccountAsync(string address, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_accounts.GetValueOrDefault(address));
        }
    }

    public Task<AccountInfo?> GetAccountAsync(long accountId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_accounts.Values.FirstOrDefault(a => a.Id == accountId));
        }
    }

    public Task<IReadOnlyList<AccountInfo>> ListAccountsAsync(string? domain, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<string?> GetCredentialAsync(string address, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_credentials.GetValueOrDefault(address));
        }
    }

    public Task SetCredentialAsync(string address, string credential, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> ReplaceCredentialAsync(string address, string expected, string replacement, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_credentials.GetValueOrDefault(address) != expected)
            {
                return Task.FromResult(false);
            }

            _credentials[address] = replacement;
            return Task.FromResult(true);
        }
    }

    public Task SetQuotaAsync(string address, long quotaBytes, long quotaMessages, CancellationToken cancellationToken) => throw new NotSupportedException();

    /// <summary>Usage is not tracked here (the quota transcripts run on the real store): every
    /// account reports nothing used against its stored octet limit.</summary>
    public Task<QuotaUsage?> GetQuotaUsageAsync(long accountId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var account = _accounts.Values.FirstOrDefault(a => a.Id == accountId);
            return Task.FromResult(account is null ? null : new QuotaUsage(account.Id, 0, 0, account.QuotaBytes, 0));
        }
    }

    public Task<bool> RemoveAccountAsync(string address, bool force, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<AliasInfo> AddAliasAsync(string source, IReadOnlyList<string> targets, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var existing = _aliases.GetValueOrDefault(source);
            var a = new AliasInfo(existing?.Id ?? _nextId++, source, [.. existing?.Targets ?? [], .. targets]);
            _aliases[source] = a;
            return Task.FromResult(a);
        }
    }

    public Task<AliasInfo?> FindAliasAsync(string source, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_aliases.GetValueOrDefault(source));
        }
    }

    public Task<IReadOnlyList<AliasInfo>> ListAliasesAsync(string? domain, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> RemoveAliasAsync(string source, string? target, CancellationToken cancellationToken) => throw new NotSupportedException();

    // INBOX id = 1000 + account id.
    public Task<MailboxInfo?> FindMailboxAsync(long accountId, string name, CancellationToken cancellationToken) =>
        Task.FromResult<MailboxInfo?>(name == "INBOX" ? new MailboxInfo(1000 + accountId, accountId, "INBOX", SpecialUse.Inbox, 1, 1, 1, true) : null);

    public Task<IReadOnlyList<MailboxInfo>> ListMailboxesAsync(long accountId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxInfo?> GetMailboxAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxInfo> CreateMailboxAsync(long accountId, string name, SpecialUse specialUse, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task DeleteMailboxAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task RenameMailboxAsync(long mailboxId, string newName, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task SetSubscribedAsync(long accountId, string name, bool subscribed, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<string>> ListSubscriptionsAsync(long accountId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxCounts> GetCountsAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<MessageEntry>> ListMessagesAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxChanges> GetChangesSinceAsync(long mailboxId, ulong modSeq, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<uint> ClaimRecentAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<StoreFlagsResult> StoreFlagsAsync(long mailboxId, IReadOnlyList<uint> uids, FlagOperation operation, MessageFlags flags, IReadOnlyList<string> keywords, ulong? unchangedSince, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<ExpungeResult> ExpungeAsync(long mailboxId, IReadOnlyList<uint>? uids, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<CopyResult> CopyAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<CopyResult> MoveAsync(long sourceMailboxId, IReadOnlyList<uint> uids, long destinationMailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public IMessageWriter CreateWriter()
    {
        Interlocked.Increment(ref OpenWriters);
        return new Writer(this);
    }

    public Task<DeliveryResult> CommitAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        if (FailCommits)
        {
            throw new IOException("disk on fire");
        }

        using var read = request.Message.OpenRead();
        using var copy = new MemoryStream();
        read.CopyTo(copy);
        lock (_lock)
        {
            Commits.Add((request, copy.ToArray()));
            return Task.FromResult(new DeliveryResult(Commits.Count, request.Local.Select((_, i) => (uint)(i + 1)).ToList(), request.Remote.Count > 0 ? Commits.Count : null));
        }
    }

    public Task<Stream> OpenMessageAsync(long messageId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<ReadOnlyMemory<byte>> GetIndexAsync(long messageId, CancellationToken cancellationToken) => throw new NotSupportedException();

    private sealed class Writer(MemoryMailStore owner) : IMessageWriter
    {
        private readonly MemoryStream _data = new();
        private bool _disposed;

        public long Length => _data.Length;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            _data.Write(data.Span);
            return ValueTask.CompletedTask;
        }

        public ValueTask<StagedMessage> CompleteAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<StagedMessage>(new Staged(_data.ToArray()));

        public ValueTask DisposeAsync()
        {
            if (!_disposed)
            {
                _disposed = true;
                Interlocked.Decrement(ref owner.OpenWriters);
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class Staged(byte[] bytes) : StagedMessage
    {
        public override long Length => bytes.Length;

        public override string ContentHash => Convert.ToHexStringLower(SHA256.HashData(bytes));

        public override Stream OpenRead() => new MemoryStream(bytes, writable: false);

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}