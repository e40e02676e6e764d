namespace Pochta.Core;

/// <summary>The system flags of RFC 9051 §2.3.2 that are stored per message.
/// <c>\Recent</c> is not stored here: it is a per-session view (RFC 3501 §2.3.2).</summary>
[Flags]
public enum MessageFlags
{
    None = 0,
    Seen = 1,
    Answered = 2,
    Flagged = 4,
    Deleted = 8,
    Draft = 16,
}

/// <summary>RFC 6154 special-use attributes of a mailbox.</summary>
public enum SpecialUse
{
    None = 0,
    Inbox,
    Drafts,
    Sent,
    Junk,
    Trash,
    Archive,
    All,
    Flagged,
}