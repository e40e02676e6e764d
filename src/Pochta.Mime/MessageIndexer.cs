using System.Text;

using MimeKit;
using MimeKit.Utils;

using Pochta.Storage;

namespace Pochta.Mime;

/// <summary>
/// Parses a message once (MimeKit's <see cref="MimeParser"/> in persistent mode, reading byte
/// offsets from its begin/end events) into a <see cref="MessageIndex"/>. Never throws on bad
/// MIME: malformed input yields a best-effort index; input MimeKit cannot parse at all becomes a
/// header-less text/plain body. Nesting is bounded by <see cref="MaxDepth"/> and the number of
/// parts by <see cref="MaxParts"/> (parts beyond it are not indexed and do not get part numbers).
/// </summary>
public sealed class MessageIndexer : IMessageIndexer
{
    /// <summary>Maximum MIME nesting depth indexed (DESIGN §8: limits on MIME depth).</summary>
    public const int MaxDepth = 50;

    /// <summary>Maximum number of MIME entities indexed per message.</summary>
    public const int MaxParts = 5000;

    /// <summary>Cap on the decoded search text, in characters.</summary>
    public const int MaxBodyTextChars = 256 * 1024;

    /// <summary>RFC 8970 §3: previews are at most 200 characters.</summary>
    public const int MaxPreviewChars = 200;

    /// <summary>Cap on header fields kept for SEARCH HEADER.</summary>
    public const int MaxHeaderFields = 1000;

    private static readonly ParserOptions Options = CreateOptions();

    private static ParserOptions CreateOptions()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var options = ParserOptions.Default.Clone();
        options.MaxMimeDepth = MaxDepth;
        options.AddressParserComplianceMode = RfcComplianceMode.Loose;
        options.ParameterComplianceMode = RfcComplianceMode.Loose;
        options.Rfc2047ComplianceMode = RfcComplianceMode.Loose;
        options.RespectContentLength = false;
        return options;
    }

    /// <inheritdoc/>
    public async ValueTask<byte[]> BuildIndexAsync(Stream message, CancellationToken cancellationToken)
    {
        var index = await IndexAsync(message, cancellationToken).ConfigureAwait(false);
        return MessageIndexSerializer.Serialize(index);
    }

    /// <summary>Builds the index of a message. A seekable stream is read in place (parts are not
    /// copied into memory); a non-seekable one is buffered first.</summary>
    public static async Task<MessageIndex> IndexAsync(Stream message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        Stream source = message;
        MemoryStream? buffer = null;
        try
        {
            if (!message.CanSeek)
            {
                buffer = new MemoryStream();
                await message.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                source = buffer;
            }

            source.Position = 0;
            var size = source.Length;
            var offsets = new OffsetRecorder();
            MimeMessage? parsed = null;
            try
            {
                var parser = new MimeParser(Options, source, MimeFormat.Entity, persistent: true);
                parser.MimeEntityBegin += offsets.OnEntityBegin;
                parser.MimeEntityEnd += offsets.OnEntityEnd;
                parsed = await parser.ParseMessageAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (FormatException)
            {
                // Not a message at all (no parsable header): indexed as a header-less body below.
            }

            if (parsed?.Body is null || !offsets.TryGet(parsed.Body, out _))
            {
                return Unparsable(size);
            }

            var builder = new Builder(offsets, size);
            var body = builder.BuildPart(parsed.Body, depth: 0, isRoot: true);
            var envelope = BuildEnvelope(parsed.Headers);
            var threading = BuildThreading(parsed.Headers);
            var text = await TextExtractor.ExtractAsync(parsed, cancellationToken).ConfigureAwait(false);
            var headers = BuildHeaderFields(parsed.Headers, parsed.Body.Headers);
            var search = new SearchData(
                BaseSubject.Extract(envelope.DecodedSubject),
                envelope.ParsedDate,
                headers,
                text.Text,
                text.Preview,
                builder.HasAttachment);
            return new MessageIndex(size, envelope, body, threading, search);
        }
        finally
        {
            if (buffer is not null)
            {
                await buffer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static MessageIndex Unparsable(long size)
    {
        var body = new BodyPart(
            BodyPartKind.Basic, "text", "plain", [new BodyParameter("charset", "us-ascii")],
            null, null, null, null, null, null, null,
            Offset: 0, BodyOffset: 0, End: size, Lines: 0, Children: [], MessageEnvelope: null, Message: null);
        return new MessageIndex(
            size,
            MessageEnvelope.Empty,
            body,
            new ThreadingData(null, [], []),
            new SearchData(string.Empty, null, [], string.Empty, string.Empty, false));
    }

    /// <summary>RFC 9051 §7.5.2 ENVELOPE from a message header block. The first occurrence of each
    /// field is used.</summary>
    internal static MessageEnvelope BuildEnvelope(HeaderList headers)
    {
        var date = Raw(headers, HeaderId.Date);
        DateTimeOffset? parsedDate = null;
        if (date is not null && DateUtils.TryParse(date, out var d))
        {
            parsedDate = d;
        }

        var subjectHeader = First(headers, HeaderId.Subject);
        var subject = subjectHeader is null ? null : HeaderText.Unfold(subjectHeader.RawValue);
        string? decodedSubject = null;
        if (subjectHeader is not null)
        {
            decodedSubject = HeaderText.CollapseWhitespace(Rfc2047.DecodeText(Options, subjectHeader.RawValue));
        }

        return new MessageEnvelope(
            date,
            parsedDate,
            subject,
            decodedSubject,
            Addresses(headers, HeaderId.From),
            Addresses(headers, HeaderId.Sender),
            Addresses(headers, HeaderId.ReplyTo),
            Addresses(headers, HeaderId.To),
            Addresses(headers, HeaderId.Cc),
            Addresses(headers, HeaderId.Bcc),
            Raw(headers, HeaderId.InReplyTo),
            Raw(headers, HeaderId.MessageId));
    }

    private static ThreadingData BuildThreading(HeaderList headers)
    {
        var messageIdRaw = Raw(headers, HeaderId.MessageId);
        string? messageId = null;
        if (messageIdRaw is not null)
        {
            foreach (var id in MimeUtils.EnumerateReferences(messageIdRaw))
            {
                messageId = id;
                break;
            }
        }

        return new ThreadingData(messageId, MsgIds(Raw(headers, HeaderId.References)), MsgIds(Raw(headers, HeaderId.InReplyTo)));
    }

    private static string[] MsgIds(string? raw)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return [];
        }

        var list = new List<string>();
        foreach (var id in MimeUtils.EnumerateReferences(raw))
        {
            if (list.Count >= 1000)
            {
                break;
            }

            list.Add(id);
        }

        return [.. list];
    }

    private static HeaderField[] BuildHeaderFields(HeaderList messageHeaders, HeaderList bodyHeaders)
    {
        // MimeKit moves Content-* headers of the top-level entity into its body's list; SEARCH
        // HEADER sees the message header block as received, so both lists are merged by offset.
        var all = new List<Header>(messageHeaders.Count + bodyHeaders.Count);
        all.AddRange(messageHeaders);
        var seen = new HashSet<long>();
        foreach (var h in messageHeaders)
        {
            if (h.Offset is { } offset)
            {
                seen.Add(offset);
            }
        }

        foreach (var h in bodyHeaders)
        {
            if (h.Offset is { } offset && seen.Add(offset))
            {
                all.Add(h);
            }
        }

        all.Sort(static (a, b) => (a.Offset ?? long.MaxValue).CompareTo(b.Offset ?? long.MaxValue));
        var count = Math.Min(all.Count, MaxHeaderFields);
        var fields = new HeaderField[count];
        for (var i = 0; i < count; i++)
        {
            var h = all[i];
            string value;
            try
            {
                value = HeaderText.CollapseWhitespace(Rfc2047.DecodeText(Options, h.RawValue));
            }
            catch (ArgumentException)
            {
                value = HeaderText.Unfold(h.RawValue);
            }

            fields[i] = new HeaderField(h.Field, value);
        }

        return fields;
    }

    private static Header? First(HeaderList headers, HeaderId id)
    {
        var i = headers.IndexOf(id);
        return i < 0 ? null : headers[i];
    }

    /// <summary>The unfolded raw value of the first such header, or null when absent.</summary>
    internal static string? Raw(HeaderList headers, HeaderId id)
    {
        var h = First(headers, id);
        return h is null ? null : HeaderText.Unfold(h.RawValue);
    }

    private static EnvelopeAddress[]? Addresses(HeaderList headers, HeaderId id)
    {
        var h = First(headers, id);
        if (h is null)
        {
            return null;
        }

        return [.. AddressParser.Parse(HeaderText.Unfold(h.RawValue), Options)];
    }

    /// <summary>Begin/end offsets reported by the parser for each entity.</summary>
    private sealed class OffsetRecorder
    {
        private readonly Dictionary<MimeEntity, EntityOffsets> entities = new(ReferenceEqualityComparer.Instance);

        public void OnEntityBegin(object? sender, MimeEntityBeginEventArgs e) =>
            entities[e.Entity] = new EntityOffsets(e.BeginOffset, -1, -1, 0);

        public void OnEntityEnd(object? sender, MimeEntityEndEventArgs e)
        {
            var begin = entities.TryGetValue(e.Entity, out var o) ? o.Begin : e.HeadersEndOffset;
            entities[e.Entity] = new EntityOffsets(begin, e.HeadersEndOffset, e.EndOffset, Math.Max(0, e.Lines));
        }

        public bool TryGet(MimeEntity entity, out EntityOffsets offsets) =>
            entities.TryGetValue(entity, out offsets) && offsets.HeadersEnd >= 0;
    }

    private readonly record struct EntityOffsets(long Begin, long HeadersEnd, long End, int Lines);

    /// <summary>Walks MimeKit's tree into <see cref="BodyPart"/> records.</summary>
    private sealed class Builder(OffsetRecorder offsets, long size)
    {
        private int parts;

        public bool HasAttachment { get; private set; }

        /// <param name="isRoot">The entity is a message's root (its header is the message header).</param>
        public BodyPart BuildPart(MimeEntity entity, int depth, bool isRoot)
        {
            parts++;
            offsets.TryGet(entity, out var o);
            var begin = Clamp(o.Begin);
            var bodyOffset = Math.Max(begin, Clamp(o.HeadersEnd));
            var end = Math.Max(bodyOffset, Clamp(o.End));

            var headers = entity.Headers;
            var ct = entity.ContentType;
            var parameters = new List<BodyParameter>(ct.Parameters.Count + 1);
            foreach (var p in ct.Parameters)
            {
                parameters.Add(new BodyParameter(p.Name, p.Value ?? string.Empty));
            }

            // RFC 2045 §5.2: the default is "Content-type: text/plain; charset=us-ascii", and
            // RFC 2046 §4.1.2 makes US-ASCII the default charset of every text/* type.
            if (ct.IsMimeType("text", "*") && ct.Parameters.IndexOf("charset") < 0)
            {
                parameters.Add(new BodyParameter("charset", "us-ascii"));
            }

            BodyDisposition? disposition = null;
            if (headers.Contains(HeaderId.ContentDisposition) && entity.ContentDisposition is { } cd)
            {
                var dparams = new List<BodyParameter>(cd.Parameters.Count);
                foreach (var p in cd.Parameters)
                {
                    dparams.Add(new BodyParameter(p.Name, p.Value ?? string.Empty));
                }

                disposition = new BodyDisposition(cd.Disposition, dparams);
            }

            var kind = BodyPartKind.Basic;
            var children = (IReadOnlyList<BodyPart>)[];
            MessageEnvelope? nestedEnvelope = null;
            BodyPart? nested = null;
            long lines = 0;
            var descend = depth < MaxDepth;
            switch (entity)
            {
                case Multipart multipart when descend:
                    {
                        kind = BodyPartKind.Multipart;
                        var list = new List<BodyPart>(multipart.Count);
                        foreach (var child in multipart)
                        {
                            if (parts >= MaxParts)
                            {
                                break;
                            }

                            if (offsets.TryGet(child, out _))
                            {
                                list.Add(BuildPart(child, depth + 1, isRoot: false));
                            }
                        }

                        if (list.Count == 0)
                        {
                            // IMAP body-type-mpart needs at least one body: a multipart whose
                            // boundary never occurs gets an empty text/plain part at its end.
                            list.Add(EmptyTextPart(end));
                        }

                        children = list;
                        break;
                    }

                case MessagePart { Message: { Body: { } nestedBody } message } when descend && offsets.TryGet(nestedBody, out _):
                    kind = BodyPartKind.Message;
                    lines = o.Lines;
                    nestedEnvelope = BuildEnvelope(message.Headers);
                    nested = parts < MaxParts ? BuildPart(nestedBody, depth + 1, isRoot: true) : null;
                    if (nested is null)
                    {
                        kind = BodyPartKind.Basic;
                        nestedEnvelope = null;
                    }

                    break;
                default:
                    if (ct.IsMimeType("text", "*") || ct.IsMimeType("message", "*"))
                    {
                        lines = o.Lines;
                    }

                    if (!isRoot && IsAttachment(entity, disposition))
                    {
                        HasAttachment = true;
                    }

                    break;
            }

            return new BodyPart(
                kind,
                ct.MediaType,
                ct.MediaSubtype,
                parameters,
                Raw(headers, HeaderId.ContentId),
                Raw(headers, HeaderId.ContentDescription),
                Raw(headers, HeaderId.ContentTransferEncoding),
                Raw(headers, HeaderId.ContentMd5),
                disposition,
                Languages(headers),
                Raw(headers, HeaderId.ContentLocation),
                begin,
                bodyOffset,
                end,
                lines,
                children,
                nestedEnvelope,
                nested);
        }

        private static BodyPart EmptyTextPart(long at) => new(
            BodyPartKind.Basic, "text", "plain", [new BodyParameter("charset", "us-ascii")],
            null, null, null, null, null, null, null, at, at, at, 0, [], null, null);

        private long Clamp(long value) => value < 0 ? 0 : value > size ? size : value;

        private static bool IsAttachment(MimeEntity entity, BodyDisposition? disposition)
        {
            if (disposition is not null && string.Equals(disposition.Type, "attachment", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            var ct = entity.ContentType;
            return !ct.IsMimeType("text", "*") && disposition is null
                ? ct.Name is not null
                : disposition is not null && !string.Equals(disposition.Type, "inline", StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>Content-Language (RFC 3282): a comma-separated list of language tags.</summary>
        private static string[]? Languages(HeaderList headers)
        {
            var raw = Raw(headers, HeaderId.ContentLanguage);
            if (raw is null)
            {
                return null;
            }

            var list = new List<string>();
            var span = raw.AsSpan();
            var depth = 0;
            var start = -1;
            for (var i = 0; i <= span.Length; i++)
            {
                var c = i < span.Length ? span[i] : ',';
                if (c == '(')
                {
                    depth++;
                }
                else if (c == ')' && depth > 0)
                {
                    depth--;
                }

                var isTokenChar = depth == 0 && c is not (',' or ' ' or '\t' or '(' or ')');
                if (isTokenChar)
                {
                    if (start < 0)
                    {
                        start = i;
                    }
                }
                else if (start >= 0)
                {
                    list.Add(span[start..i].ToString());
                    start = -1;
                }
            }

            return [.. list];
        }
    }
}