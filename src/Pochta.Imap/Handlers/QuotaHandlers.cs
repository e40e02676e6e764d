using Pochta.Imap.Protocol;
using Pochta.Storage;

namespace Pochta.Imap.Handlers;

/// <summary>
/// RFC 9208 QUOTA. Every mailbox of an account has one quota root, the empty name <c>""</c>
/// (the per-user root of the RFC's examples); it exists while the account has any limit.
/// Resources: STORAGE (units of 1024 octets, usage rounded up so a non-empty mailbox never shows
/// 0; the limit rounded down) and MESSAGE. Only resources with a limit are listed (§4.1.1).
/// Limits are set by the administrator (<c>pochta user quota</c>), never over IMAP.
/// </summary>
internal static class ImapQuota
{
    /// <summary>The one quota root name of an account.</summary>
    public const string RootName = "";

    /// <summary>RFC 9208 §4.3: the response code of an APPEND/COPY/MOVE refused for quota.</summary>
    public static CommandResult OverQuota => CommandResult.No("Quota exceeded", "OVERQUOTA");

    /// <summary>Capabilities (RFC 9208 §3): QUOTA and the resource types this server limits.</summary>
    public const string Capabilities = " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE";

    /// <summary>Refuses an APPEND before its messages are committed (before "+" for a synchronizing
    /// literal, RFC 9208 §4.3) when <paramref name="messages"/> messages of
    /// <paramref name="octets"/> octets in all would pass a limit; null when they fit now. The
    /// commit itself enforces the limits exactly (concurrent deliveries).</summary>
    public static async Task<CommandResult?> CheckAppendAsync(ImapSession session, long octets, int messages, CancellationToken cancellationToken)
    {
        var usage = await session.Store.Directory.GetQuotaUsageAsync(session.AccountId, cancellationToken);
        if (usage is null || !usage.HasLimit)
        {
            return null;
        }

        var fits = (usage.LimitBytes == 0 || usage.UsedBytes + octets <= usage.LimitBytes) &&
            (usage.LimitMessages == 0 || usage.UsedMessages + messages <= usage.LimitMessages);
        return fits ? null : OverQuota;
    }

    /// <summary>Writes <c>* QUOTA "" (STORAGE used limit MESSAGE used limit)</c> (RFC 9208 §5.1).</summary>
    public static void WriteQuota(ImapSession session, QuotaUsage usage)
    {
        var w = session.Writer.Untagged().Raw("QUOTA "u8).AString(RootName).Raw(" ("u8);
        if (usage.LimitBytes > 0)
        {
            w.Raw("STORAGE "u8).Number((usage.UsedBytes + 1023) / 1024).Space().Number(usage.LimitBytes / 1024);
        }

        if (usage.LimitMessages > 0)
        {
            if (usage.LimitBytes > 0)
            {
                w.Space();
            }

            w.Raw("MESSAGE "u8).Number(usage.UsedMessages).Space().Number(usage.LimitMessages);
        }

        w.Close().EndLine();
    }

    public static async Task<QuotaUsage?> GetLimitedUsageAsync(ImapSession session, CancellationToken cancellationToken) =>
        await session.Store.Directory.GetQuotaUsageAsync(session.AccountId, cancellationToken) is { HasLimit: true } usage ? usage : null;
}

/// <summary>RFC 9208 §4.1.2 GETQUOTAROOT: <c>* QUOTAROOT mailbox ""</c> then the root's QUOTA
/// response; an account without limits has no quota root (<c>* QUOTAROOT mailbox</c> alone).</summary>
internal sealed class GetQuotaRootHandler : CommandHandler<GetQuotaRootCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, GetQuotaRootCommand command, CancellationToken cancellationToken)
    {
        var mailbox = await session.Store.Mailboxes.FindMailboxAsync(session.AccountId, MailboxNames.Normalize(command.Mailbox), cancellationToken);
        if (mailbox is null)
        {
            return CommandResult.No("No such mailbox", "NONEXISTENT");
        }

        var usage = await ImapQuota.GetLimitedUsageAsync(session, cancellationToken);
        var w = session.Writer.Untagged().Raw("QUOTAROOT "u8).Mailbox(mailbox.Name);
        if (usage is not null)
        {
            w.Space().AString(ImapQuota.RootName);
        }

        w.EndLine();
        if (usage is not null)
        {
            ImapQuota.WriteQuota(session, usage);
        }

        return CommandResult.Ok("GETQUOTAROOT completed");
    }
}

/// <summary>RFC 9208 §4.1.1 GETQUOTA: the account's own root only; any other name (another
/// user's root included) is refused alike, so root names of others are not disclosed.</summary>
internal sealed class GetQuotaHandler : CommandHandler<GetQuotaCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, GetQuotaCommand command, CancellationToken cancellationToken)
    {
        if (command.Root != ImapQuota.RootName || await ImapQuota.GetLimitedUsageAsync(session, cancellationToken) is not { } usage)
        {
            return CommandResult.No("No such quota root", "NONEXISTENT");
        }

        ImapQuota.WriteQuota(session, usage);
        return CommandResult.Ok("GETQUOTA completed");
    }
}

/// <summary>RFC 9208 §4.1.3 SETQUOTA: limits are administrative (<c>pochta user quota</c>); a
/// user may not change them, so the command is refused (NO [NOPERM], RFC 5530) and the
/// capability QUOTASET is not advertised.</summary>
internal sealed class SetQuotaHandler : CommandHandler<SetQuotaCommand>
{
    protected override Task<CommandResult> ExecuteAsync(ImapSession session, SetQuotaCommand command, CancellationToken cancellationToken) =>
        Task.FromResult(CommandResult.No("Quota limits are set by the administrator", "NOPERM"));
}