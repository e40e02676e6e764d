namespace Pochta.Imap.Protocol;

/// <summary>RFC 9208 §4.1.1 GETQUOTA quota-root-name.</summary>
public sealed record GetQuotaCommand(string Tag, string Root) : ImapCommand(Tag)
{
    public override string Name => "GETQUOTA";
}

/// <summary>RFC 9208 §4.1.2 GETQUOTAROOT mailbox.</summary>
public sealed record GetQuotaRootCommand(string Tag, string Mailbox) : ImapCommand(Tag)
{
    public override string Name => "GETQUOTAROOT";
}

/// <summary>RFC 9208 §4.1.3 SETQUOTA quota-root-name (resource-name limit ...); resource names upper-cased.</summary>
public sealed record SetQuotaCommand(string Tag, string Root, IReadOnlyList<(string Resource, ulong Limit)> Limits) : ImapCommand(Tag)
{
    public override string Name => "SETQUOTA";
}