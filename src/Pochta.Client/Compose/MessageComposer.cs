using MimeKit;
using MimeKit.Utils;

using Pochta.Client.Cli;

namespace Pochta.Client.Compose;

/// <summary>
/// Builds RFC 5322 / MIME messages: text/plain in UTF-8 (RFC 2045/2046), an HTML alternative
/// (multipart/alternative, plain first), attachments with content types from their names and
/// RFC 2231 file names, Message-ID and Date. Every part is given a 7-bit-safe transfer encoding
/// up front so the bytes submitted over SMTP and appended to Sent are the same.
/// </summary>
internal sealed class MessageComposer(TimeProvider time)
{
    public ComposedMessage Compose(Draft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (draft.To.Count + draft.Cc.Count + draft.Bcc.Count == 0)
        {
            throw ClientException.Usage("no recipients: give --to, --cc or --bcc");
        }

        var resources = new List<IDisposable>();
        try
        {
            var message = new MimeMessage();
            message.From.Add(draft.From);
            message.To.AddRange(draft.To);
            message.Cc.AddRange(draft.Cc);
            message.Bcc.AddRange(draft.Bcc);
            message.Subject = draft.Subject;
            message.Date = time.GetLocalNow();
            message.MessageId = MimeUtils.GenerateMessageId(DomainOf(draft.From.Address));
            if (draft.InReplyTo is { } inReplyTo)
            {
                message.InReplyTo = inReplyTo;
            }

            foreach (var reference in draft.References)
            {
                message.References.Add(reference);
            }

            MimeEntity body = BuildText(draft);
            if (draft.Attachments.Count > 0 || draft.Forwarded is not null)
            {
                var mixed = new Multipart("mixed") { body };
                foreach (var path in draft.Attachments)
                {
                    mixed.Add(BuildAttachment(path, resources));
                }

                if (draft.Forwarded is { } forwarded)
                {
                    mixed.Add(new MessagePart("rfc822")
                    {
                        Message = forwarded,
                        ContentDisposition = new ContentDisposition(ContentDisposition.Inline),
                    });
                }

                body = mixed;
            }

            message.Body = body;
            return new ComposedMessage(message, resources);
        }
        catch
        {
            foreach (var resource in resources)
            {
                resource.Dispose();
            }

            throw;
        }
    }

    private static MimeEntity BuildText(Draft draft)
    {
        var text = draft.Text ?? (draft.Html is { } html ? HtmlText.ToPlainText(html) : string.Empty);
        var plain = TextPartUtf8("plain", text);
        if (draft.Html is null)
        {
            return plain;
        }

        // RFC 2046 §5.1.4: alternatives in increasing faithfulness, plain first.
        return new MultipartAlternative { plain, TextPartUtf8("html", draft.Html) };
    }

    private static TextPart TextPartUtf8(string subtype, string text)
    {
        var part = new TextPart(subtype);
        part.SetText("utf-8", text);
        part.ContentTransferEncoding = part.GetBestEncoding(EncodingConstraint.SevenBit);
        return part;
    }

    private static MimePart BuildAttachment(string path, List<IDisposable> resources)
    {
        FileStream stream;
        try
        {
            stream = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ClientException.Usage($"cannot read attachment {path}: {e.Message}");
        }

        resources.Add(stream);
        var name = Path.GetFileName(path);
        var part = new MimePart(ContentType.Parse(MimeTypes.GetMimeType(name)))
        {
            Content = new MimeContent(stream),
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
            ContentTransferEncoding = ContentEncoding.Base64,
        };

        // RFC 2183 filename and the older Content-Type name, non-ASCII as RFC 2231 (not RFC 2047).
        part.ContentDisposition.FileName = name;
        part.ContentType.Name = name;
        SetRfc2231(part.ContentDisposition.Parameters, "filename");
        SetRfc2231(part.ContentType.Parameters, "name");
        return part;
    }

    private static void SetRfc2231(ParameterList parameters, string name)
    {
        if (parameters.TryGetValue(name, out Parameter? parameter))
        {
            parameter.EncodingMethod = ParameterEncodingMethod.Rfc2231;
        }
    }

    internal static string DomainOf(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 || at == address.Length - 1 ? "localhost" : address[(at + 1)..];
    }
}