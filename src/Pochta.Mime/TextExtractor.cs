using System.Text;

using MimeKit;
using MimeKit.Text;

namespace Pochta.Mime;

/// <summary>Bounded plain-text extraction for SEARCH BODY/TEXT and the RFC 8970 preview.</summary>
internal static class TextExtractor
{
    /// <summary>Text parts larger than this (encoded) are read incrementally, not whole.</summary>
    private const long WholePartLimit = 1024 * 1024;

    /// <summary>HTML input read per part, in characters.</summary>
    private const int MaxHtmlChars = 2 * MessageIndexer.MaxBodyTextChars;

    public readonly record struct Result(string Text, string Preview);

    public static async Task<Result> ExtractAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder();
        string? preview = null;
        await AppendEntityAsync(message.Body, sb, 0, p => preview ??= p, cancellationToken).ConfigureAwait(false);
        if (sb.Length > MessageIndexer.MaxBodyTextChars)
        {
            sb.Length = MessageIndexer.MaxBodyTextChars;
        }

        return new Result(sb.ToString(), MakePreview(preview ?? string.Empty));
    }

    private static async Task AppendEntityAsync(MimeEntity? entity, StringBuilder sb, int depth, Action<string> previewSink, CancellationToken cancellationToken)
    {
        if (entity is null || depth > MessageIndexer.MaxDepth || sb.Length >= MessageIndexer.MaxBodyTextChars)
        {
            return;
        }

        switch (entity)
        {
            case MultipartAlternative alternative:
                {
                    // Index one alternative: the last text/plain, else the last text/html, else the
                    // first that yields anything (RFC 2046 §5.1.4: the last is the preferred form).
                    MimeEntity? best = null;
                    foreach (var child in alternative)
                    {
                        if (child.ContentType.IsMimeType("text", "plain"))
                        {
                            best = child;
                        }
                    }

                    if (best is null)
                    {
                        foreach (var child in alternative)
                        {
                            if (child.ContentType.IsMimeType("text", "html") || child is Multipart)
                            {
                                best = child;
                            }
                        }
                    }

                    await AppendEntityAsync(best, sb, depth + 1, previewSink, cancellationToken).ConfigureAwait(false);
                    break;
                }

            case Multipart multipart:
                foreach (var child in multipart)
                {
                    await AppendEntityAsync(child, sb, depth + 1, previewSink, cancellationToken).ConfigureAwait(false);
                }

                break;
            case MessagePart { Message: { } nested }:
                await AppendEntityAsync(nested.Body, sb, depth + 1, previewSink, cancellationToken).ConfigureAwait(false);
                break;
            case TextPart text when !IsAttachment(text):
                {
                    var value = await ReadTextAsync(text, cancellationToken).ConfigureAwait(false);
                    if (value.Length == 0)
                    {
                        break;
                    }

                    previewSink(value);
                    if (sb.Length > 0)
                    {
                        sb.Append('\n');
                    }

                    sb.Append(value.AsSpan(0, Math.Min(value.Length, MessageIndexer.MaxBodyTextChars - Math.Min(sb.Length, MessageIndexer.MaxBodyTextChars))));
                    break;
                }

            default:
                break;
        }
    }

    private static bool IsAttachment(MimeEntity entity) =>
        entity.ContentDisposition is { } cd && string.Equals(cd.Disposition, ContentDisposition.Attachment, StringComparison.OrdinalIgnoreCase);

    private static async Task<string> ReadTextAsync(TextPart part, CancellationToken cancellationToken)
    {
        try
        {
            string raw;
            var isHtml = part.IsHtml;
            var limit = isHtml ? MaxHtmlChars : MessageIndexer.MaxBodyTextChars;
            if (part.Content?.Stream is not { } content)
            {
                return string.Empty;
            }

            if (content.CanSeek && content.Length <= WholePartLimit)
            {
                // MimeKit's own charset handling (declared charset, then UTF-8, then Latin-1).
                raw = part.Text;
                if (raw.Length > limit)
                {
                    raw = raw[..limit];
                }
            }
            else
            {
                var encoding = GetEncoding(part.ContentType.Charset);
                using var decoded = part.Content.Open();
                using var reader = new StreamReader(decoded, encoding, detectEncodingFromByteOrderMarks: true);
                var buffer = new char[limit];
                var total = 0;
                while (total < limit)
                {
                    var n = await reader.ReadAsync(buffer.AsMemory(total, limit - total), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    total += n;
                }

                raw = new string(buffer, 0, total);
            }

            // Line ends are normalized to LF: searches match across both forms, text is smaller.
            return (isHtml ? HtmlToPlain(raw) : raw).ReplaceLineEndings("\n");
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or DecoderFallbackException or IOException)
        {
            // Undecodable content is not searchable; the index is still built.
            return string.Empty;
        }
    }

    private static Encoding GetEncoding(string? charset)
    {
        if (string.IsNullOrEmpty(charset))
        {
            return Encoding.UTF8;
        }

        try
        {
            return Encoding.GetEncoding(charset);
        }
        catch (ArgumentException)
        {
            return Encoding.UTF8;
        }
    }

    /// <summary>HTML to text: character data outside script/style, block tags as line breaks,
    /// character references decoded by the tokenizer.</summary>
    internal static string HtmlToPlain(string html)
    {
        var sb = new StringBuilder(Math.Min(html.Length, MessageIndexer.MaxBodyTextChars));
        using var reader = new StringReader(html);
        var tokenizer = new HtmlTokenizer(reader) { DecodeCharacterReferences = true };
        var skipDepth = 0;
        while (tokenizer.ReadNextToken(out var token))
        {
            switch (token)
            {
                case HtmlTagToken tag:
                    if (tag.Id is HtmlTagId.Script or HtmlTagId.Style or HtmlTagId.Head or HtmlTagId.Title)
                    {
                        if (tag.IsEndTag)
                        {
                            skipDepth = Math.Max(0, skipDepth - 1);
                        }
                        else if (!tag.IsEmptyElement)
                        {
                            skipDepth++;
                        }
                    }
                    else if (tag.Id is HtmlTagId.Br or HtmlTagId.P or HtmlTagId.Div or HtmlTagId.TR or HtmlTagId.LI
                        or HtmlTagId.H1 or HtmlTagId.H2 or HtmlTagId.H3 or HtmlTagId.H4 or HtmlTagId.H5 or HtmlTagId.H6
                        or HtmlTagId.Table or HtmlTagId.BlockQuote or HtmlTagId.HR)
                    {
                        if (sb.Length > 0 && sb[^1] != '\n')
                        {
                            sb.Append('\n');
                        }
                    }
                    else if (tag.Id is HtmlTagId.TD or HtmlTagId.TH)
                    {
                        sb.Append(' ');
                    }

                    break;
                case HtmlDataToken data when skipDepth == 0 && token is not HtmlScriptDataToken:
                    sb.Append(data.Data);
                    break;
                default:
                    break;
            }

            if (sb.Length >= MessageIndexer.MaxBodyTextChars)
            {
                break;
            }
        }

        return sb.ToString();
    }

    /// <summary>RFC 8970 §3: a plain-text preview of at most 200 characters, whitespace collapsed.</summary>
    internal static string MakePreview(string text)
    {
        var span = text.AsSpan(0, Math.Min(text.Length, 4 * MessageIndexer.MaxPreviewChars));
        var collapsed = HeaderText.CollapseWhitespace(span);
        if (collapsed.Length <= MessageIndexer.MaxPreviewChars)
        {
            return collapsed;
        }

        var cut = MessageIndexer.MaxPreviewChars;
        if (char.IsHighSurrogate(collapsed[cut - 1]))
        {
            cut--;
        }

        return collapsed[..cut];
    }
}