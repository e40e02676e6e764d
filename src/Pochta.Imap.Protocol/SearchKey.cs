using Pochta.Core;

namespace Pochta.Imap.Protocol;

/// <summary>A SEARCH criterion (RFC 9051 §6.4.4, RFC 3501 §6.4.4, RFC 7162 MODSEQ).</summary>
public abstract record SearchKey;

/// <summary>Every message (ALL), the neutral element of AND.</summary>
public sealed record AllKey : SearchKey;

/// <summary>Messages whose system flag is set (<see cref="IsSet"/>) or unset: ANSWERED/UNANSWERED etc.</summary>
public sealed record FlagKey(MessageFlags Flag, bool IsSet) : SearchKey;

/// <summary>KEYWORD / UNKEYWORD.</summary>
public sealed record KeywordKey(string Keyword, bool IsSet) : SearchKey;

public enum SessionFlagKind
{
    /// <summary>RFC 3501 NEW: \Recent and not \Seen.</summary>
    New,

    /// <summary>RFC 3501 OLD: not \Recent.</summary>
    Old,

    /// <summary>RFC 3501 RECENT.</summary>
    Recent,
}

/// <summary>NEW, OLD, RECENT (IMAP4rev1 only).</summary>
public sealed record SessionFlagKey(SessionFlagKind Kind) : SearchKey;

public enum DateKeyKind
{
    Before,
    On,
    Since,
    SentBefore,
    SentOn,
    SentSince,
}

/// <summary>Date comparisons: internal date (BEFORE/ON/SINCE) or Date header (SENT*), by day.</summary>
public sealed record DateKey(DateKeyKind Kind, DateOnly Date) : SearchKey;

/// <summary>Header contains a substring (FROM, TO, CC, BCC, SUBJECT are HEADER shorthands).
/// RFC 9051 §6.4.4: an empty value matches every message that has the field.</summary>
public sealed record HeaderKey(string Field, string Value) : SearchKey;

/// <summary>BODY (body only) or TEXT (header and body) contains a substring.</summary>
public sealed record TextKey(string Value, bool IncludeHeader) : SearchKey;

/// <summary>LARGER (<see cref="Larger"/> true) / SMALLER than <see cref="Size"/> octets.</summary>
public sealed record SizeKey(long Size, bool Larger) : SearchKey;

/// <summary>A sequence set of message numbers, or UID set.</summary>
public sealed record SequenceSetKey(SequenceSet Set, bool IsUid) : SearchKey;

/// <summary>RFC 7162 §3.1.5 MODSEQ: messages with mod-sequence at least <see cref="ModSeq"/>.</summary>
public sealed record ModSeqKey(ulong ModSeq) : SearchKey;

public sealed record NotKey(SearchKey Key) : SearchKey;

public sealed record OrKey(SearchKey Left, SearchKey Right) : SearchKey;

/// <summary>A parenthesised list or the implicit AND of the top-level keys.</summary>
public sealed record AndKey(IReadOnlyList<SearchKey> Keys) : SearchKey;