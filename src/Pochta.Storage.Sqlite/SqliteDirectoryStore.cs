using Microsoft.Data.Sqlite;

namespace Pochta.Storage.Sqlite;

internal sealed class SqliteDirectoryStore(SqliteMailStore store) : IDirectoryStore
{
    private const string AccountColumns = "id, address, domain_id, quota, disabled, created_at";

    public Task<DomainInfo> AddDomainAsync(string name, CancellationToken cancellationToken)
    {
        var domain = Canonical(name);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT 1 FROM domains WHERE name = $n", ("$n", domain)) is not null)
            {
                throw new StoreConflictException("The domain already exists.");
            }

            var id = ctx.Db.Long("INSERT INTO domains(name, created_at) VALUES($n, $t) RETURNING id", ("$n", domain), ("$t", ctx.NowMs));
            return new DomainInfo(id, domain, Rows.Time(ctx.NowMs));
        }, cancellationToken);
    }

    public Task<DomainInfo?> FindDomainAsync(string name, CancellationToken cancellationToken)
    {
        var domain = Canonical(name);
        return store.ReadAsync(db =>
        {
            using var r = db.Query("SELECT id, name, created_at FROM domains WHERE name = $n", ("$n", domain));
            return r.Read() ? Domain(r) : null;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<DomainInfo>> ListDomainsAsync(CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<DomainInfo>>(db =>
        {
            using var r = db.Query("SELECT id, name, created_at FROM domains ORDER BY name");
            var list = new List<DomainInfo>();
            while (r.Read())
            {
                list.Add(Domain(r));
            }

            return list;
        }, cancellationToken);

    public Task<bool> RemoveDomainAsync(string name, bool force, CancellationToken cancellationToken)
    {
        var domain = Canonical(name);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT id FROM domains WHERE name = $n", ("$n", domain)) is not long id)
            {
                return false;
            }

            var accounts = new List<long>();
            using (var r = ctx.Db.Query("SELECT id FROM accounts WHERE domain_id = $d", ("$d", id)))
            {
                while (r.Read())
                {
                    accounts.Add(r.GetInt64(0));
                }
            }

            var aliases = ctx.Db.Long("SELECT COUNT(*) FROM aliases WHERE domain_id = $d", ("$d", id));
            if (!force && (accounts.Count > 0 || aliases > 0))
            {
                throw new StoreConflictException("The domain still has accounts or aliases.");
            }

            foreach (var account in accounts)
            {
                Rows.DeleteAccount(ctx, account);
            }

            ctx.Db.Exec("DELETE FROM aliases WHERE domain_id = $d", ("$d", id));
            ctx.Db.Exec("DELETE FROM domains WHERE id = $d", ("$d", id));
            return true;
        }, cancellationToken);
    }

    public Task<AccountInfo> AddAccountAsync(string address, string credential, long quotaBytes, CancellationToken cancellationToken)
    {
        var key = Canonical(address);
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentOutOfRangeException.ThrowIfNegative(quotaBytes);
        var domain = DomainOf(key);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT id FROM domains WHERE name = $n", ("$n", domain)) is not long domainId)
            {
                throw new StoreNotFoundException("The domain is not a local domain.");
            }

            if (ctx.Db.Scalar("SELECT 1 FROM accounts WHERE address = $a", ("$a", key)) is not null)
            {
                throw new StoreConflictException("The account already exists.");
            }

            var id = ctx.Db.Long(
                "INSERT INTO accounts(address, domain_id, credential, quota, disabled, created_at) VALUES($a, $d, $c, $q, 0, $t) RETURNING id",
                ("$a", key),
                ("$d", domainId),
                ("$c", credential),
                ("$q", quotaBytes),
                ("$t", ctx.NowMs));
            foreach (var (name, use) in Rows.DefaultMailboxes)
            {
                Rows.CreateMailbox(ctx, id, name, use);
                ctx.Db.Exec("INSERT OR IGNORE INTO subscriptions(account_id, name) VALUES($a, $n)", ("$a", id), ("$n", name));
            }

            return new AccountInfo(id, key, domainId, quotaBytes, false, Rows.Time(ctx.NowMs));
        }, cancellationToken);
    }

    public Task<AccountInfo?> FindAccountAsync(string address, CancellationToken cancellationToken)
    {
        var key = Canonical(address);
        return store.ReadAsync(db =>
        {
            using var r = db.Query($"SELECT {AccountColumns} FROM accounts WHERE address = $a", ("$a", key));
            return r.Read() ? Account(r) : null;
        }, cancellationToken);
    }

    public Task<AccountInfo?> GetAccountAsync(long accountId, CancellationToken cancellationToken) =>
        store.ReadAsync(db =>
        {
            using var r = db.Query($"SELECT {AccountColumns} FROM accounts WHERE id = $id", ("$id", accountId));
            return r.Read() ? Account(r) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<AccountInfo>> ListAccountsAsync(string? domain, CancellationToken cancellationToken)
    {
        var name = domain is null ? null : Canonical(domain);
        return store.ReadAsync<IReadOnlyList<AccountInfo>>(db =>
        {
            using var r = name is null
                ? db.Query($"SELECT {AccountColumns} FROM accounts ORDER BY address")
                : db.Query($"SELECT {AccountColumns} FROM accounts WHERE domain_id = (SELECT id FROM domains WHERE name = $n) ORDER BY address", ("$n", name));
            var list = new List<AccountInfo>();
            while (r.Read())
            {
                list.Add(Account(r));
            }

            return list;
        }, cancellationToken);
    }

    public Task<string?> GetCredentialAsync(string address, CancellationToken cancellationToken)
    {
        var key = Canonical(address);
        return store.ReadAsync(db => db.Scalar("SELECT credential FROM accounts WHERE address = $a", ("$a", key)) as string, cancellationToken);
    }

    public Task SetCredentialAsync(string address, string credential, CancellationToken cancellationToken)
    {
        var key = Canonical(address);
        ArgumentNullException.ThrowIfNull(credential);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Exec("UPDATE accounts SET credential = $c WHERE address = $a", ("$a", key), ("$c", credential)) == 0)
            {
                throw new StoreNotFoundException("No such account.");
            }

            return true;
        }, cancellationToken);
    }

    public Task<bool> ReplaceCredentialAsync(string address, string expected, string replacement, CancellationToken cancellationToken)
    {
        var key = Canonical(address);
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(replacement);
        return store.WriteAsync(
            ctx => ctx.Db.Exec("UPDATE accounts SET credential = $r WHERE address = $a AND credential = $e", ("$a", key), ("$e", expected), ("$r", replacement)) == 1,
            cancellationToken);
    }

    public Task SetQuotaAsync(string address, long quotaBytes, long quotaMessages, CancellationToken cancellationToken)
    {
        var key = Canonical(address);
        ArgumentOutOfRangeException.ThrowIfNegative(quotaBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(quotaMessages);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Exec("UPDATE accounts SET quota = $q, quota_messages = $m WHERE address = $a", ("$a", key), ("$q", quotaBytes), ("$m", quotaMessages)) == 0)
            {
                throw new StoreNotFoundException("No such account.");
            }

            return true;
        }, cancellationToken);
    }

    public Task<QuotaUsage?> GetQuotaUsageAsync(long accountId, CancellationToken cancellationToken) =>
        store.ReadAsync(db =>
        {
            using var r = db.Query("SELECT used_bytes, used_messages, quota, quota_messages FROM accounts WHERE id = $id", ("$id", accountId));
            return r.Read() ? new QuotaUsage(accountId, r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)) : null;
        }, cancellationToken);

    public Task<bool> RemoveAccountAsync(string address, bool force, CancellationToken cancellationToken)
    {
        var key = Canonical(address);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT id FROM accounts WHERE address = $a", ("$a", key)) is not long id)
            {
                return false;
            }

            if (!force && ctx.Db.Scalar(
                "SELECT 1 FROM mailbox_messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = $a) LIMIT 1", ("$a", id)) is not null)
            {
                throw new StoreConflictException("The account still owns mail.");
            }

            Rows.DeleteAccount(ctx, id);
            return true;
        }, cancellationToken);
    }

    public Task<AliasInfo> AddAliasAsync(string source, IReadOnlyList<string> targets, CancellationToken cancellationToken)
    {
        var key = Canonical(source);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0)
        {
            throw new ArgumentException("An alias needs at least one target.", nameof(targets));
        }

        var canonicalTargets = targets.Select(Canonical).ToList();
        var domain = DomainOf(key);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT id FROM domains WHERE name = $n", ("$n", domain)) is not long domainId)
            {
                throw new StoreNotFoundException("The alias domain is not a local domain.");
            }

            var id = ctx.Db.Scalar("SELECT id FROM aliases WHERE source = $s", ("$s", key)) as long?
                ?? ctx.Db.Long("INSERT INTO aliases(source, domain_id) VALUES($s, $d) RETURNING id", ("$s", key), ("$d", domainId));
            var position = ctx.Db.Long("SELECT COALESCE(MAX(position), 0) FROM alias_targets WHERE alias_id = $id", ("$id", id));
            foreach (var target in canonicalTargets)
            {
                ctx.Db.Exec("INSERT OR IGNORE INTO alias_targets(alias_id, position, target) VALUES($id, $p, $t)", ("$id", id), ("$p", ++position), ("$t", target));
            }

            return LoadAlias(ctx.Db, id, key);
        }, cancellationToken);
    }

    public Task<AliasInfo?> FindAliasAsync(string source, CancellationToken cancellationToken)
    {
        var key = Canonical(source);
        return store.ReadAsync(db => db.Scalar("SELECT id FROM aliases WHERE source = $s", ("$s", key)) is long id ? LoadAlias(db, id, key) : null, cancellationToken);
    }

    public Task<IReadOnlyList<AliasInfo>> ListAliasesAsync(string? domain, CancellationToken cancellationToken)
    {
        var name = domain is null ? null : Canonical(domain);
        return store.ReadAsync<IReadOnlyList<AliasInfo>>(db => db.Snapshot(db =>
        {
            var rows = new List<(long Id, string Source)>();
            using (var r = name is null
                ? db.Query("SELECT id, source FROM aliases ORDER BY source")
                : db.Query("SELECT id, source FROM aliases WHERE domain_id = (SELECT id FROM domains WHERE name = $n) ORDER BY source", ("$n", name)))
            {
                while (r.Read())
                {
                    rows.Add((r.GetInt64(0), r.GetString(1)));
                }
            }

            return rows.Select(a => LoadAlias(db, a.Id, a.Source)).ToList();
        }), cancellationToken);
    }

    public Task<bool> RemoveAliasAsync(string source, string? target, CancellationToken cancellationToken)
    {
        var key = Canonical(source);
        var targetKey = target is null ? null : Canonical(target);
        return store.WriteAsync(ctx =>
        {
            if (ctx.Db.Scalar("SELECT id FROM aliases WHERE source = $s", ("$s", key)) is not long id)
            {
                return false;
            }

            if (targetKey is not null)
            {
                if (ctx.Db.Exec("DELETE FROM alias_targets WHERE alias_id = $id AND target = $t", ("$id", id), ("$t", targetKey)) == 0)
                {
                    return false;
                }

                if (ctx.Db.Scalar("SELECT 1 FROM alias_targets WHERE alias_id = $id", ("$id", id)) is not null)
                {
                    return true;
                }
            }

            ctx.Db.Exec("DELETE FROM aliases WHERE id = $id", ("$id", id));
            return true;
        }, cancellationToken);
    }

    private static AliasInfo LoadAlias(Db db, long id, string source)
    {
        using var r = db.Query("SELECT target FROM alias_targets WHERE alias_id = $id ORDER BY position", ("$id", id));
        var targets = new List<string>();
        while (r.Read())
        {
            targets.Add(r.GetString(0));
        }

        return new AliasInfo(id, source, targets);
    }

    private static DomainInfo Domain(SqliteDataReader r) => new(r.GetInt64(0), r.GetString(1), Rows.Time(r.GetInt64(2)));

    private static AccountInfo Account(SqliteDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.GetBoolean(4), Rows.Time(r.GetInt64(5)));

    /// <summary>The contract passes canonical (lower-case) names; lower-casing again keeps a
    /// careless caller from creating a second spelling of one address.</summary>
    private static string Canonical(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        return value.Trim().ToLowerInvariant();
    }

    private static string DomainOf(string address)
    {
        var at = address.LastIndexOf('@');
        if (at < 0 || at == address.Length - 1)
        {
            throw new ArgumentException("An address has the form local@domain (or @domain for a catch-all).", nameof(address));
        }

        return address[(at + 1)..];
    }
}