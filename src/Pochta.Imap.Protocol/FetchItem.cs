namespace Pochta.Imap.Protocol;

/// <summary>A FETCH data item (RFC 9051 §6.4.5).</summary>
public abstract record FetchItem;

public enum SimpleFetchKind
{
    Flags,
    InternalDate,
    Rfc822Size,
    Envelope,

    /// <summary>BODY without section: non-extensible body structure.</summary>
    Body,
    BodyStructure,
    Uid,

    /// <summary>RFC 7162 MODSEQ.</summary>
    ModSeq,

    /// <summary>RFC 3501 RFC822 = BODY[] (sets \Seen).</summary>
    Rfc822,

    /// <summary>RFC 3501 RFC822.HEADER = BODY.PEEK[HEADER].</summary>
    Rfc822Header,

    /// <summary>RFC 3501 RFC822.TEXT = BODY[TEXT] (sets \Seen).</summary>
    Rfc822Text,
}

public sealed record SimpleFetchItem(SimpleFetchKind Kind) : FetchItem;

public enum SectionSpecifier
{
    None,
    Header,
    HeaderFields,
    HeaderFieldsNot,
    Text,
    Mime,
}

/// <summary>A section: part path (1-based numbers, empty for the whole message) and specifier.</summary>
public sealed record Section(IReadOnlyList<int> Path, SectionSpecifier Specifier, IReadOnlyList<string> Fields)
{
    public static Section Whole { get; } = new([], SectionSpecifier.None, []);
}

/// <summary>An origin and maximum length (<c>&lt;start.length&gt;</c>).</summary>
public readonly record struct Partial(long Start, long Length);

/// <summary>BODY[section]&lt;partial&gt; and BODY.PEEK.</summary>
public sealed record BodySectionItem(Section Section, Partial? Partial, bool Peek) : FetchItem;

/// <summary>RFC 3516 / RFC 9051 BINARY[part]&lt;partial&gt; and BINARY.PEEK.</summary>
public sealed record BinaryItem(IReadOnlyList<int> Path, Partial? Partial, bool Peek) : FetchItem;

/// <summary>BINARY.SIZE[part].</summary>
public sealed record BinarySizeItem(IReadOnlyList<int> Path) : FetchItem;