namespace Pochta.Mime;

/// <summary>
/// Everything IMAP FETCH/SEARCH/SORT/THREAD and JMAP need about one stored message, built once
/// at delivery or APPEND (<see cref="MessageIndexer"/>) and stored beside the raw blob
/// (<see cref="MessageIndexSerializer"/>). All offsets are byte offsets from the start of the
/// raw message; ranges are served from the blob without re-parsing.
/// </summary>
/// <param name="Size">The raw message size in octets (RFC822.SIZE).</param>
/// <param name="Envelope">The top-level message's envelope fields.</param>
/// <param name="Body">The top-level entity: its header is the message header (BODY[HEADER]) and its
/// body is BODY[TEXT]. A multipart root has <see cref="BodyPart.Children"/>.</param>
/// <param name="Threading">Parsed msg-id lists for THREAD=REFERENCES (RFC 5256 §2.2).</param>
/// <param name="Search">Decoded data for SEARCH and SORT.</param>
public sealed record MessageIndex(
    long Size,
    MessageEnvelope Envelope,
    BodyPart Body,
    ThreadingData Threading,
    SearchData Search);

/// <summary>
/// The RFC 9051 §7.5.2 ENVELOPE fields. Raw values are the unfolded header value as received
/// (leading/trailing whitespace removed, encoded-words kept); null when the header is absent.
/// Address lists are null when the header is absent and empty when present without addresses.
/// </summary>
/// <param name="Date">Raw Date header value.</param>
/// <param name="ParsedDate">The Date header parsed (RFC 5322 §3.3, lenient), null when absent or unparsable.</param>
/// <param name="Subject">Raw Subject header value (RFC 2047 encoded-words kept).</param>
/// <param name="DecodedSubject">Subject with RFC 2047 encoded-words decoded to Unicode.</param>
/// <param name="InReplyTo">Raw In-Reply-To header value.</param>
/// <param name="MessageId">Raw Message-ID header value.</param>
public sealed record MessageEnvelope(
    string? Date,
    DateTimeOffset? ParsedDate,
    string? Subject,
    string? DecodedSubject,
    IReadOnlyList<EnvelopeAddress>? From,
    IReadOnlyList<EnvelopeAddress>? Sender,
    IReadOnlyList<EnvelopeAddress>? ReplyTo,
    IReadOnlyList<EnvelopeAddress>? To,
    IReadOnlyList<EnvelopeAddress>? Cc,
    IReadOnlyList<EnvelopeAddress>? Bcc,
    string? InReplyTo,
    string? MessageId)
{
    /// <summary>An envelope with every field absent (used for unparsable input).</summary>
    public static MessageEnvelope Empty { get; } = new(null, null, null, null, null, null, null, null, null, null, null, null);

    /// <summary>RFC 9051 §7.5.2: "If the Sender or Reply-To fields are absent in the [RFC-5322]
    /// header, or are present but empty, the server sets the corresponding member of the envelope
    /// to be the same value as the from field member."</summary>
    public IReadOnlyList<EnvelopeAddress>? EffectiveSender => Sender is { Count: > 0 } ? Sender : From;

    /// <inheritdoc cref="EffectiveSender"/>
    public IReadOnlyList<EnvelopeAddress>? EffectiveReplyTo => ReplyTo is { Count: > 0 } ? ReplyTo : From;

    /// <summary>A copy with Sender and Reply-To defaulted to From as ENVELOPE requires.</summary>
    public MessageEnvelope WithImapDefaults() => this with { Sender = EffectiveSender, ReplyTo = EffectiveReplyTo };
}

/// <summary>
/// One element of an ENVELOPE address list (RFC 9051 §7.5.2 / RFC 3501 §7.4.2 "addr-*").
/// A plain mailbox has <see cref="Mailbox"/> and <see cref="Host"/> set. RFC 5322 groups are
/// flattened the IMAP way: a group start has Mailbox = group name and Host = null, followed by
/// the members, then a group end with every field null.
/// </summary>
/// <param name="RawName">The display name as it appears in the header: quoted-strings unquoted,
/// whitespace unfolded, RFC 2047 encoded-words kept. Null when there is no display name.</param>
/// <param name="Name">The display name decoded to Unicode.</param>
/// <param name="Route">The obsolete source route (RFC 5322 obs-route), normally null.</param>
/// <param name="Mailbox">The local part (dequoted), or the group name for a group start.</param>
/// <param name="Host">The domain, null for group start/end markers.</param>
public sealed record EnvelopeAddress(string? RawName, string? Name, string? Route, string? Mailbox, string? Host)
{
    public static EnvelopeAddress GroupEnd { get; } = new(null, null, null, null, null);

    public static EnvelopeAddress GroupStart(string rawName, string name) => new(null, null, null, rawName, null) { DecodedGroupName = name };

    /// <summary>For a group start, the decoded group name (Mailbox holds the raw one).</summary>
    public string? DecodedGroupName { get; init; }

    public bool IsGroupStart => Host is null && Mailbox is not null;

    public bool IsGroupEnd => Host is null && Mailbox is null;

    /// <summary>"mailbox@host" for a plain address, null for group markers.</summary>
    public string? Address => Host is null ? null : Host.Length == 0 ? Mailbox : string.Concat(Mailbox, "@", Host);
}

/// <summary>A MIME parameter (Content-Type or Content-Disposition) with its RFC 2231 / RFC 2047
/// decoded value. Names keep the case received (IMAP clients compare case-insensitively).</summary>
public sealed record BodyParameter(string Name, string Value);

/// <summary>A Content-Disposition (RFC 2183): type as received and its parameters.</summary>
public sealed record BodyDisposition(string Type, IReadOnlyList<BodyParameter> Parameters);

/// <summary>What kind of entity a <see cref="BodyPart"/> is.</summary>
public enum BodyPartKind : byte
{
    /// <summary>A leaf part (text/*, application/*, ...).</summary>
    Basic = 0,

    /// <summary>multipart/*: see <see cref="BodyPart.Children"/>.</summary>
    Multipart = 1,

    /// <summary>message/rfc822 (or message/global): see <see cref="BodyPart.Message"/>.</summary>
    Message = 2,
}

/// <summary>
/// One MIME entity of the body structure tree with its byte ranges in the raw message.
/// <list type="bullet">
/// <item><see cref="Offset"/> .. <see cref="BodyOffset"/>: the entity's header block, including
/// the blank line that ends it (BODY[x.MIME], or BODY[HEADER] for a message's root entity).</item>
/// <item><see cref="BodyOffset"/> .. <see cref="End"/>: the body as transmitted (encoded), without
/// the CRLF that precedes a following boundary (RFC 2046 §5.1.1: that CRLF belongs to the boundary).</item>
/// </list>
/// </summary>
/// <param name="Kind">Leaf, multipart or encapsulated message.</param>
/// <param name="MediaType">Content-Type type as received (default "text"; "message" in multipart/digest).</param>
/// <param name="MediaSubtype">Content-Type subtype as received (default "plain"; "rfc822" in multipart/digest).</param>
/// <param name="Parameters">Content-Type parameters in received order, RFC 2231 decoded. A text/*
/// part without a charset parameter gets charset=us-ascii appended (RFC 2045 §5.2, RFC 2046 §4.1.2).</param>
/// <param name="ContentId">Raw Content-ID value.</param>
/// <param name="Description">Raw Content-Description value.</param>
/// <param name="TransferEncoding">Raw Content-Transfer-Encoding value (null when absent: 7BIT).</param>
/// <param name="Md5">Raw Content-MD5 value.</param>
/// <param name="Disposition">Content-Disposition, null when absent.</param>
/// <param name="Languages">Content-Language tags, null when absent.</param>
/// <param name="Location">Raw Content-Location value.</param>
/// <param name="Offset">Start of the entity (its first header line).</param>
/// <param name="BodyOffset">Start of the body (just after the blank line ending the header).</param>
/// <param name="End">End of the body (exclusive).</param>
/// <param name="Lines">Body size in lines as encoded: for text/* and message/* parts (IMAP body-fld-lines); 0 otherwise.</param>
/// <param name="Children">Sub-parts of a multipart, in order, never empty for a multipart (a
/// malformed multipart without parts gets one empty text/plain part, since IMAP's body-type-mpart
/// requires one); empty otherwise.</param>
/// <param name="MessageEnvelope">For message/rfc822: the encapsulated message's envelope.</param>
/// <param name="Message">For message/rfc822: the encapsulated message's root entity (its
/// Offset equals this part's BodyOffset).</param>
public sealed record BodyPart(
    BodyPartKind Kind,
    string MediaType,
    string MediaSubtype,
    IReadOnlyList<BodyParameter> Parameters,
    string? ContentId,
    string? Description,
    string? TransferEncoding,
    string? Md5,
    BodyDisposition? Disposition,
    IReadOnlyList<string>? Languages,
    string? Location,
    long Offset,
    long BodyOffset,
    long End,
    long Lines,
    IReadOnlyList<BodyPart> Children,
    MessageEnvelope? MessageEnvelope,
    BodyPart? Message)
{
    /// <summary>Header block length, including the terminating blank line.</summary>
    public long HeaderLength => BodyOffset - Offset;

    /// <summary>Encoded body size in octets (IMAP body-fld-octets).</summary>
    public long BodySize => End - BodyOffset;

    /// <summary>The multipart boundary parameter, or null.</summary>
    public string? Boundary => GetParameter("boundary");

    /// <summary>The charset parameter, or null.</summary>
    public string? Charset => GetParameter("charset");

    public bool IsMultipart => Kind == BodyPartKind.Multipart;

    public bool IsMessage => Kind == BodyPartKind.Message;

    public bool IsText => string.Equals(MediaType, "text", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first parameter with this name (case-insensitive), or null.</summary>
    public string? GetParameter(string name)
    {
        foreach (var p in Parameters)
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value;
            }
        }

        return null;
    }
}

/// <summary>msg-id lists for RFC 5256 THREAD=REFERENCES. Each id is the text between '&lt;' and
/// '&gt;' (brackets removed), in header order; invalid tokens are skipped.</summary>
/// <param name="MessageId">The Message-ID, null when absent or invalid.</param>
/// <param name="References">The References header's ids.</param>
/// <param name="InReplyTo">The In-Reply-To header's ids.</param>
public sealed record ThreadingData(string? MessageId, IReadOnlyList<string> References, IReadOnlyList<string> InReplyTo);

/// <summary>A top-level header field with its value unfolded and RFC 2047 decoded (SEARCH HEADER).</summary>
public sealed record HeaderField(string Name, string Value);

/// <summary>Decoded data for SEARCH, SORT and previews.</summary>
/// <param name="BaseSubject">RFC 5256 §2.1 base subject (SORT SUBJECT, THREAD=ORDEREDSUBJECT).</param>
/// <param name="SentDate">RFC 5256 §2.2 sent date: the Date header, null when absent/unparsable
/// (the caller then uses the internal date).</param>
/// <param name="Headers">Every top-level header field in order.</param>
/// <param name="BodyText">Decoded plain text of the text parts (HTML stripped), capped at
/// <see cref="MessageIndexer.MaxBodyTextChars"/> characters (SEARCH BODY/TEXT).</param>
/// <param name="Preview">RFC 8970 preview: at most 200 characters, whitespace collapsed.</param>
/// <param name="HasAttachment">True when some leaf part is an attachment (JMAP hasAttachment).</param>
public sealed record SearchData(
    string BaseSubject,
    DateTimeOffset? SentDate,
    IReadOnlyList<HeaderField> Headers,
    string BodyText,
    string Preview,
    bool HasAttachment);