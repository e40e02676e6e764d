using System.CommandLine;
using System.Globalization;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Storage;

using Spectre.Console;

namespace Pochta.Cli;

/// <summary><c>domain</c>, <c>user</c>, <c>alias</c> and <c>mailbox</c>: the directory, edited in the store directly.</summary>
internal static class DirectoryCommands
{
    public static Command CreateDomain(CommandContext context)
    {
        var domain = new Command("domain", "Local domains");
        var name = new Argument<string>("NAME") { Description = "Domain name, e.g. example.com" };
        var force = new Option<bool>("--force") { Description = "Also remove the domain's accounts, their mail and its aliases" };

        var add = new Command("add", "Add a local domain (and its DKIM keys)") { name };
        add.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var domainName = ParseDomain(result.GetValue(name)!);
            var info = await admin.Store.Directory.AddDomainAsync(domainName, ct);
            var keys = await AdminOperations.EnsureDkimKeysAsync(admin.Configuration.Root, info.Name, ct);
            if (context.Json(result))
            {
                context.Console.WriteJson(new
                {
                    info.Name,
                    info.CreatedAt,
                    Dkim = keys.Select(k => new { k.Selector, Algorithm = k.Algorithm.ToString(), k.DnsName, Record = k.DnsRecordValue }),
                });
            }
            else
            {
                context.Console.Line($"domain {info.Name} added");
                foreach (var key in keys)
                {
                    context.Console.Line($"  DKIM {key.Algorithm}: publish TXT {key.DnsName}");
                }
            }

            return ExitCodes.Success;
        }, ct));

        var list = new Command("list", "List local domains");
        list.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var domains = await admin.Store.Directory.ListDomainsAsync(ct);
            var rows = new List<(DomainInfo Domain, int Accounts, int Aliases)>();
            foreach (var d in domains)
            {
                var accounts = await admin.Store.Directory.ListAccountsAsync(d.Name, ct);
                var aliases = await admin.Store.Directory.ListAliasesAsync(d.Name, ct);
                rows.Add((d, accounts.Count, aliases.Count));
            }

            if (context.Json(result))
            {
                context.Console.WriteJson(rows.Select(r => new { r.Domain.Name, r.Accounts, r.Aliases, r.Domain.CreatedAt }));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("Domain", "Accounts", "Aliases", "Created");
            foreach (var (d, accounts, aliases) in rows)
            {
                table.AddRow(Markup.Escape(d.Name), Num(accounts), Num(aliases), Date(d.CreatedAt));
            }

            context.Console.Ansi.Write(table);
            return ExitCodes.Success;
        }, ct));

        var remove = new Command("remove", "Remove a local domain") { name, force };
        remove.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var domainName = ParseDomain(result.GetValue(name)!);
            bool removed;
            try
            {
                removed = await admin.Store.Directory.RemoveDomainAsync(domainName, result.GetValue(force), ct);
            }
            catch (StoreConflictException)
            {
                throw new CliRefusedException($"domain {domainName} still has accounts or aliases; use --force to remove them and their mail");
            }

            if (!removed)
            {
                throw new CliRefusedException($"domain {domainName} not found");
            }

            Done(context, result, $"domain {domainName} removed", new { Name = domainName, Removed = true });
            return ExitCodes.Success;
        }, ct));

        domain.Subcommands.Add(add);
        domain.Subcommands.Add(list);
        domain.Subcommands.Add(remove);
        return domain;
    }

    public static Command CreateUser(CommandContext context)
    {
        var user = new Command("user", "Accounts");
        var address = new Argument<string>("ADDRESS") { Description = "Account address, e.g. alice@example.com" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input" };
        var quota = new Option<long>("--quota-mb") { Description = "Mailbox quota in MiB (0: unlimited)", DefaultValueFactory = _ => 0, HelpName = "N" };
        var domainFilter = new Option<string?>("--domain") { Description = "Only accounts of this domain" };
        var force = new Option<bool>("--force") { Description = "Also remove the account's mail" };

        var add = new Command("add", "Create an account with INBOX, Drafts, Sent, Junk, Trash and Archive") { address, passwordStdin, quota };
        add.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var target = ParseAddress(result.GetValue(address)!);
            var quotaMb = result.GetValue(quota);
            if (quotaMb < 0 || quotaMb > long.MaxValue / (1024 * 1024))
            {
                throw new CliRefusedException("--quota-mb must be 0 (unlimited) or a positive number of MiB");
            }

            if (await admin.Store.Directory.FindDomainAsync(target.Domain, ct) is null)
            {
                throw new CliRefusedException($"{target.Domain} is not a local domain (add it with: pochta domain add {target.Domain})");
            }

            if (await admin.Store.Directory.FindAccountAsync(target.Key, ct) is not null)
            {
                throw new CliRefusedException($"account {target.Key} already exists");
            }

            var password = await PasswordInput.ReadAsync(context.Console, result.GetValue(passwordStdin), ct);
            var account = await admin.Store.Directory.AddAccountAsync(target.Key, Credentials.Create(password), quotaMb * 1024 * 1024, ct);
            Done(context, result, $"account {account.Address} created", AccountJson(account));
            return ExitCodes.Success;
        }, ct));

        var list = new Command("list", "List accounts") { domainFilter };
        list.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var filter = result.GetValue(domainFilter) is { } d ? ParseDomain(d) : null;
            var accounts = await admin.Store.Directory.ListAccountsAsync(filter, ct);

            var usages = new Dictionary<long, QuotaUsage>();
            foreach (var a in accounts)
            {
                if (await admin.Store.Directory.GetQuotaUsageAsync(a.Id, ct) is { } u)
                {
                    usages[a.Id] = u;
                }
            }

            if (context.Json(result))
            {
                context.Console.WriteJson(accounts.Select(a => AccountJson(a, usages.GetValueOrDefault(a.Id))));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("Address", "Quota", "Used", "Messages", "Status", "Created");
            foreach (var a in accounts)
            {
                var u = usages.GetValueOrDefault(a.Id);
                table.AddRow(
                    Markup.Escape(a.Address),
                    a.QuotaBytes == 0 ? "unlimited" : Size(a.QuotaBytes),
                    u is null ? "-" : UsedText(u),
                    u is null ? "-" : Num(u.UsedMessages) + (u.LimitMessages > 0 ? " / " + Num(u.LimitMessages) : ""),
                    a.Disabled ? "disabled" : "active",
                    Date(a.CreatedAt));
            }

            context.Console.Ansi.Write(table);
            return ExitCodes.Success;
        }, ct));

        var passwd = new Command("passwd", "Set an account's password") { address, passwordStdin };
        passwd.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var target = ParseAddress(result.GetValue(address)!);
            if (await admin.Store.Directory.FindAccountAsync(target.Key, ct) is null)
            {
                throw new CliRefusedException($"account {target.Key} not found");
            }

            var password = await PasswordInput.ReadAsync(context.Console, result.GetValue(passwordStdin), ct);
            await admin.Store.Directory.SetCredentialAsync(target.Key, Credentials.Create(password), ct);
            Done(context, result, $"password of {target.Key} changed", new { Address = target.Key, Changed = true });
            return ExitCodes.Success;
        }, ct));

        var quotaMb = new Option<long?>("--mb") { Description = "Storage quota in MiB (0: unlimited); unchanged when absent", HelpName = "N" };
        var quotaMessages = new Option<long?>("--messages") { Description = "Message count quota (0: unlimited); unchanged when absent", HelpName = "N" };
        var setQuota = new Command("quota", "Show an account's usage, or change its quota (existing mail is never removed)") { address, quotaMb, quotaMessages };
        setQuota.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var target = ParseAddress(result.GetValue(address)!);
            var account = await admin.Store.Directory.FindAccountAsync(target.Key, ct)
                ?? throw new CliRefusedException($"account {target.Key} not found");
            var usage = await admin.Store.Directory.GetQuotaUsageAsync(account.Id, ct)
                ?? throw new CliRefusedException($"account {target.Key} not found");
            var mb = result.GetValue(quotaMb);
            var messages = result.GetValue(quotaMessages);
            if (mb is < 0 or > long.MaxValue / (1024 * 1024))
            {
                throw new CliRefusedException("--mb must be 0 (unlimited) or a positive number of MiB");
            }

            if (messages is < 0)
            {
                throw new CliRefusedException("--messages must be 0 (unlimited) or a positive number");
            }

            var changed = mb is not null || messages is not null;
            if (changed)
            {
                var bytes = mb is { } m ? m * 1024 * 1024 : usage.LimitBytes;
                var count = messages ?? usage.LimitMessages;
                try
                {
                    await admin.Store.Directory.SetQuotaAsync(target.Key, bytes, count, ct);
                }
                catch (StoreNotFoundException)
                {
                    throw new CliRefusedException($"account {target.Key} not found");
                }

                usage = usage with { LimitBytes = bytes, LimitMessages = count };
            }

            var text = $"{target.Key}: {UsedText(usage)}, {Num(usage.UsedMessages)} messages" +
                (usage.LimitMessages > 0 ? " of " + Num(usage.LimitMessages) : "") + (changed ? " (quota changed)" : "");
            Done(context, result, text, new
            {
                Address = target.Key,
                QuotaMb = usage.LimitBytes / (1024 * 1024),
                QuotaMessages = usage.LimitMessages,
                usage.UsedBytes,
                usage.UsedMessages,
                Changed = changed,
            });
            return ExitCodes.Success;
        }, ct));

        var remove = new Command("remove", "Remove an account") { address, force };
        remove.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var target = ParseAddress(result.GetValue(address)!);
            bool removed;
            try
            {
                removed = await admin.Store.Directory.RemoveAccountAsync(target.Key, result.GetValue(force), ct);
            }
            catch (StoreConflictException)
            {
                throw new CliRefusedException($"account {target.Key} still owns mail; use --force to remove it with its mail");
            }

            if (!removed)
            {
                throw new CliRefusedException($"account {target.Key} not found");
            }

            Done(context, result, $"account {target.Key} removed", new { Address = target.Key, Removed = true });
            return ExitCodes.Success;
        }, ct));

        user.Subcommands.Add(add);
        user.Subcommands.Add(list);
        user.Subcommands.Add(passwd);
        user.Subcommands.Add(setQuota);
        user.Subcommands.Add(remove);
        return user;
    }

    public static Command CreateAlias(CommandContext context)
    {
        var alias = new Command("alias", "Aliases (@domain is a catch-all)");
        var source = new Argument<string>("SOURCE") { Description = "Address or @domain (catch-all) in a local domain" };
        var targets = new Argument<string[]>("TARGET") { Description = "Addresses to deliver to (local or remote)", Arity = ArgumentArity.OneOrMore };
        var target = new Argument<string?>("TARGET") { Description = "Remove only this target", Arity = ArgumentArity.ZeroOrOne };

        var add = new Command("add", "Add targets to an alias (creating it)") { source, targets };
        add.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var (key, domain) = ParseAliasSource(result.GetValue(source)!);
            if (await admin.Store.Directory.FindDomainAsync(domain, ct) is null)
            {
                throw new CliRefusedException($"{domain} is not a local domain (add it with: pochta domain add {domain})");
            }

            var parsedTargets = result.GetValue(targets)!.Select(t => ParseAddress(t).Key).Distinct(StringComparer.Ordinal).ToList();
            var info = await admin.Store.Directory.AddAliasAsync(key, parsedTargets, ct);
            Done(context, result, $"alias {info.Source} -> {string.Join(", ", info.Targets)}", new { info.Source, info.Targets });
            return ExitCodes.Success;
        }, ct));

        var list = new Command("list", "List aliases");
        list.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var aliases = await admin.Store.Directory.ListAliasesAsync(null, ct);
            if (context.Json(result))
            {
                context.Console.WriteJson(aliases.Select(a => new { a.Source, a.Targets }));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("Source", "Targets");
            foreach (var a in aliases)
            {
                table.AddRow(Markup.Escape(a.Source), Markup.Escape(string.Join(", ", a.Targets)));
            }

            context.Console.Ansi.Write(table);
            return ExitCodes.Success;
        }, ct));

        var remove = new Command("remove", "Remove an alias, or one of its targets") { source, target };
        remove.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var (key, _) = ParseAliasSource(result.GetValue(source)!);
            var only = result.GetValue(target) is { } t ? ParseAddress(t).Key : null;
            if (!await admin.Store.Directory.RemoveAliasAsync(key, only, ct))
            {
                throw new CliRefusedException(only is null ? $"alias {key} not found" : $"alias {key} has no target {only}");
            }

            Done(context, result, only is null ? $"alias {key} removed" : $"target {only} removed from alias {key}", new { Source = key, Target = only, Removed = true });
            return ExitCodes.Success;
        }, ct));

        alias.Subcommands.Add(add);
        alias.Subcommands.Add(list);
        alias.Subcommands.Add(remove);
        return alias;
    }

    public static Command CreateMailbox(CommandContext context)
    {
        var mailbox = new Command("mailbox", "Mailboxes");
        var user = new Argument<string>("USER") { Description = "Account address" };
        var list = new Command("list", "An account's mailboxes and counters") { user };
        list.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var target = ParseAddress(result.GetValue(user)!);
            var account = await admin.Store.Directory.FindAccountAsync(target.Key, ct)
                ?? throw new CliRefusedException($"account {target.Key} not found");
            var rows = new List<(MailboxInfo Mailbox, MailboxCounts Counts)>();
            foreach (var m in await admin.Store.Mailboxes.ListMailboxesAsync(account.Id, ct))
            {
                rows.Add((m, await admin.Store.Mailboxes.GetCountsAsync(m.Id, ct)));
            }

            if (context.Json(result))
            {
                context.Console.WriteJson(rows.Select(r => new
                {
                    r.Mailbox.Name,
                    SpecialUse = r.Mailbox.SpecialUse == SpecialUse.None ? null : r.Mailbox.SpecialUse.ToString(),
                    r.Counts.Messages,
                    r.Counts.Unseen,
                    r.Counts.Size,
                    r.Mailbox.UidValidity,
                    r.Mailbox.UidNext,
                    r.Mailbox.HighestModSeq,
                    r.Mailbox.Subscribed,
                }));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("Mailbox", "Special use", "Messages", "Unseen", "Size", "UIDVALIDITY", "UIDNEXT", "Subscribed");
            foreach (var (m, c) in rows)
            {
                table.AddRow(
                    Markup.Escape(m.Name),
                    m.SpecialUse == SpecialUse.None ? "" : "\\" + m.SpecialUse,
                    Num(c.Messages),
                    Num(c.Unseen),
                    Size(c.Size),
                    m.UidValidity.ToString(CultureInfo.InvariantCulture),
                    m.UidNext.ToString(CultureInfo.InvariantCulture),
                    m.Subscribed ? "yes" : "no");
            }

            context.Console.Ansi.Write(table);
            return ExitCodes.Success;
        }, ct));

        mailbox.Subcommands.Add(list);
        return mailbox;
    }

    public static object AccountJson(AccountInfo a) => AccountJson(a, null);

    public static object AccountJson(AccountInfo a, QuotaUsage? usage) => new
    {
        a.Address,
        QuotaMb = a.QuotaBytes / (1024 * 1024),
        QuotaMessages = usage?.LimitMessages ?? 0,
        UsedBytes = usage?.UsedBytes ?? 0,
        UsedMessages = usage?.UsedMessages ?? 0,
        a.Disabled,
        a.CreatedAt,
    };

    /// <summary>"1.2 MiB of 50 MiB (2%)", or "1.2 MiB" without a storage limit.</summary>
    private static string UsedText(QuotaUsage u) => u.LimitBytes == 0
        ? Size(u.UsedBytes)
        : $"{Size(u.UsedBytes)} of {Size(u.LimitBytes)} ({(u.UsedBytes * 100 / u.LimitBytes).ToString(CultureInfo.InvariantCulture)}%)";

    private static void Done(CommandContext context, ParseResult result, string text, object json)
    {
        if (context.Json(result))
        {
            context.Console.WriteJson(json);
        }
        else
        {
            context.Console.Line(text);
        }
    }

    public static EmailAddress ParseAddress(string text) =>
        EmailAddress.TryParse(text.Trim(), out var address) ? address : throw new CliRefusedException("not a valid mail address (expected local@domain)");

    public static string ParseDomain(string text)
    {
        var trimmed = text.Trim().TrimEnd('.');
        if (trimmed.StartsWith('[') || !EmailAddress.IsValidDomain(trimmed) || !trimmed.Contains('.', StringComparison.Ordinal))
        {
            throw new CliRefusedException("not a valid domain name (expected e.g. example.com)");
        }

        return trimmed.ToLowerInvariant();
    }

    private static (string Key, string Domain) ParseAliasSource(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('@'))
        {
            var domain = ParseDomain(trimmed[1..]);
            return ("@" + domain, domain);
        }

        var address = ParseAddress(trimmed);
        return (address.Key, address.Domain);
    }

    public static string Num(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Date(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB",
    };
}

/// <summary>Passwords come from a prompt or standard input, never from the command line.</summary>
internal static class PasswordInput
{
    public static async Task<string> ReadAsync(CliConsole console, bool fromStdin, CancellationToken cancellationToken)
    {
        string? password;
        if (fromStdin)
        {
            password = await console.In.ReadLineAsync(cancellationToken);
            if (password is null)
            {
                throw new CliRefusedException("no password on standard input");
            }
        }
        else if (console.Interactive)
        {
            password = await console.Ansi.PromptAsync(new TextPrompt<string>("Password:").Secret().AllowEmpty(), cancellationToken);
            var again = await console.Ansi.PromptAsync(new TextPrompt<string>("Repeat password:").Secret().AllowEmpty(), cancellationToken);
            if (!string.Equals(password, again, StringComparison.Ordinal))
            {
                throw new CliRefusedException("the passwords differ");
            }
        }
        else
        {
            throw new StartupException("no terminal to prompt for the password; pass it on standard input with --password-stdin");
        }

        if (password.Length == 0)
        {
            throw new CliRefusedException("the password must not be empty");
        }

        return password;
    }
}