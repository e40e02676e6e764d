using Pochta.Core;

namespace Pochta.Imap.Protocol;

/// <summary>A parsed client command. <see cref="Name"/> is the upper-case command name
/// (with <c>UID </c> for UID variants) that keys the session's command table.</summary>
public abstract record ImapCommand(string Tag)
{
    public abstract string Name { get; }
}

public sealed record CapabilityCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "CAPABILITY";
}

public sealed record NoopCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "NOOP";
}

public sealed record LogoutCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "LOGOUT";
}

public sealed record StartTlsCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "STARTTLS";
}

/// <summary>LOGIN. The password is the client's secret: never log or echo it.</summary>
public sealed record LoginCommand(string Tag, string UserName, string Password) : ImapCommand(Tag)
{
    public override string Name => "LOGIN";

    public override string ToString() => "LoginCommand { Tag = " + Tag + " }";
}

/// <summary>AUTHENTICATE mechanism [initial-response] (RFC 4959 SASL-IR). <see cref="InitialResponse"/>
/// is the base64 text as sent (<c>=</c> for an empty response), null when absent.</summary>
public sealed record AuthenticateCommand(string Tag, string Mechanism, string? InitialResponse) : ImapCommand(Tag)
{
    public override string Name => "AUTHENTICATE";

    public override string ToString() => "AuthenticateCommand { Tag = " + Tag + ", Mechanism = " + Mechanism + " }";
}

public sealed record EnableCommand(string Tag, IReadOnlyList<string> Capabilities) : ImapCommand(Tag)
{
    public override string Name => "ENABLE";
}

/// <summary>RFC 2971 ID: field/value pairs, or null for <c>ID NIL</c>.</summary>
public sealed record IdCommand(string Tag, IReadOnlyList<KeyValuePair<string, string?>>? Fields) : ImapCommand(Tag)
{
    public override string Name => "ID";
}

public sealed record NamespaceCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "NAMESPACE";
}

/// <summary>RFC 7162 §3.2.5 QRESYNC select parameters.</summary>
public sealed record QResyncParameters(uint UidValidity, ulong ModSeq, SequenceSet? KnownUids);

/// <summary>SELECT / EXAMINE (<see cref="ReadOnly"/>) with CONDSTORE / QRESYNC parameters.</summary>
public sealed record SelectCommand(string Tag, string Mailbox, bool ReadOnly, bool CondStore, QResyncParameters? QResync) : ImapCommand(Tag)
{
    public override string Name => ReadOnly ? "EXAMINE" : "SELECT";
}

/// <summary>CREATE with the RFC 6154 USE parameter.</summary>
public sealed record CreateCommand(string Tag, string Mailbox, IReadOnlyList<string> SpecialUse) : ImapCommand(Tag)
{
    public override string Name => "CREATE";
}

public sealed record DeleteCommand(string Tag, string Mailbox) : ImapCommand(Tag)
{
    public override string Name => "DELETE";
}

public sealed record RenameCommand(string Tag, string Mailbox, string NewName) : ImapCommand(Tag)
{
    public override string Name => "RENAME";
}

public sealed record SubscribeCommand(string Tag, string Mailbox, bool Subscribe) : ImapCommand(Tag)
{
    public override string Name => Subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
}

/// <summary>LIST with RFC 5258 LIST-EXTENDED options (upper-cased). Patterns are decoded
/// mailbox-name patterns; <see cref="Lsub"/> marks the RFC 3501 LSUB command.</summary>
public sealed record ListCommand(
    string Tag,
    string Reference,
    IReadOnlyList<string> Patterns,
    IReadOnlyList<string> SelectionOptions,
    IReadOnlyList<string> ReturnOptions,
    IReadOnlyList<string> StatusItems,
    bool Lsub) : ImapCommand(Tag)
{
    public override string Name => Lsub ? "LSUB" : "LIST";
}

/// <summary>STATUS; items upper-cased.</summary>
public sealed record StatusCommand(string Tag, string Mailbox, IReadOnlyList<string> Items) : ImapCommand(Tag)
{
    public override string Name => "STATUS";
}

public sealed record CheckCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "CHECK";
}

public sealed record CloseCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "CLOSE";
}

public sealed record UnselectCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "UNSELECT";
}

/// <summary>EXPUNGE, or UID EXPUNGE with a UID set (RFC 4315).</summary>
public sealed record ExpungeCommand(string Tag, SequenceSet? Uids) : ImapCommand(Tag)
{
    public override string Name => Uids is null ? "EXPUNGE" : "UID EXPUNGE";
}

/// <summary>RFC 4731 / RFC 9051 ESEARCH return options (upper-cased); null when no RETURN was given.</summary>
public sealed record SearchCommand(string Tag, bool Uid, IReadOnlyList<string>? ReturnOptions, string? Charset, SearchKey Criteria) : ImapCommand(Tag)
{
    public override string Name => Uid ? "UID SEARCH" : "SEARCH";
}

/// <summary>FETCH with RFC 7162 CHANGEDSINCE / VANISHED modifiers.</summary>
public sealed record FetchCommand(string Tag, bool Uid, SequenceSet Set, IReadOnlyList<FetchItem> Items, ulong? ChangedSince, bool Vanished) : ImapCommand(Tag)
{
    public override string Name => Uid ? "UID FETCH" : "FETCH";
}

/// <summary>STORE [+|-]FLAGS[.SILENT] with RFC 7162 UNCHANGEDSINCE.</summary>
public sealed record StoreCommand(
    string Tag,
    bool Uid,
    SequenceSet Set,
    FlagOperationKind Operation,
    bool Silent,
    MessageFlags Flags,
    IReadOnlyList<string> Keywords,
    ulong? UnchangedSince) : ImapCommand(Tag)
{
    public override string Name => Uid ? "UID STORE" : "STORE";
}

public enum FlagOperationKind
{
    Replace,
    Add,
    Remove,
}

public sealed record CopyCommand(string Tag, bool Uid, SequenceSet Set, string Mailbox, bool Move) : ImapCommand(Tag)
{
    public override string Name => (Uid ? "UID " : string.Empty) + (Move ? "MOVE" : "COPY");
}

public sealed record IdleCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "IDLE";
}

public sealed record UnauthenticateCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "UNAUTHENTICATE";
}

/// <summary>The end of an APPEND command after its last message literal was streamed.</summary>
public sealed record AppendCompleteCommand(string Tag) : ImapCommand(Tag)
{
    public override string Name => "APPEND";
}

/// <summary>One message of an APPEND (RFC 9051 §6.3.12, RFC 3502 MULTIAPPEND): what precedes its
/// literal. The session decides, streams <see cref="Size"/> bytes (after sending "+ " when
/// <see cref="Synchronizing"/>) and then calls <see cref="ImapCommandReader.LiteralConsumed"/>.</summary>
public sealed record AppendMessage(
    string Tag,
    string Mailbox,
    MessageFlags Flags,
    IReadOnlyList<string> Keywords,
    DateTimeOffset? InternalDate,
    long Size,
    bool Synchronizing,
    bool Binary,
    bool IsFirst);

/// <summary>RFC 4978 COMPRESS mechanism (upper-cased).</summary>
public sealed record CompressCommand(string Tag, string Mechanism) : ImapCommand(Tag)
{
    public override string Name => "COMPRESS";
}

public enum SortKey
{
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,

    /// <summary>RFC 5957 DISPLAYFROM.</summary>
    DisplayFrom,

    /// <summary>RFC 5957 DISPLAYTO.</summary>
    DisplayTo,
}

public readonly record struct SortCriterion(SortKey Key, bool Reverse);

/// <summary>RFC 5256 SORT (RFC 5267 ESORT return options, upper-cased, null when absent).</summary>
public sealed record SortCommand(string Tag, bool Uid, IReadOnlyList<string>? ReturnOptions, IReadOnlyList<SortCriterion> Criteria, string Charset, SearchKey SearchCriteria) : ImapCommand(Tag)
{
    public override string Name => Uid ? "UID SORT" : "SORT";
}

/// <summary>RFC 5256 THREAD; the algorithm is upper-cased as sent (the session checks it).</summary>
public sealed record ThreadCommand(string Tag, bool Uid, string Algorithm, string Charset, SearchKey Criteria) : ImapCommand(Tag)
{
    public override string Name => Uid ? "UID THREAD" : "THREAD";
}