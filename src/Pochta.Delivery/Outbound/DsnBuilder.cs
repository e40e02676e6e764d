using System.Globalization;
using System.Text;

using MimeKit;
using MimeKit.Utils;

namespace Pochta.Delivery.Outbound;

/// <summary>RFC 3464 §2.3.3 action-field values.</summary>
public enum DsnAction
{
    Failed,
    Delayed,
    Delivered,
    Relayed,
}

/// <summary>One per-recipient block of a delivery-status report (RFC 3464 §2.3).</summary>
/// <param name="OriginalRecipient">ORCPT as given (<c>rfc822;addr</c>), or null.</param>
/// <param name="Status">RFC 3463 status code, e.g. <c>5.1.1</c>.</param>
/// <param name="Diagnostic">The remote or local reply (<c>550 5.1.1 text</c>), or null.</param>
public sealed record DsnRecipient(
    string Address,
    string? OriginalRecipient,
    DsnAction Action,
    string Status,
    string? RemoteMta,
    string? Diagnostic,
    DateTimeOffset? LastAttemptDate,
    DateTimeOffset? WillRetryUntil);

/// <param name="ReportingMta">This server's host name.</param>
/// <param name="Sender">The envelope sender the report goes to.</param>
/// <param name="EnvelopeId">ENVID (RFC 3461 §4.4) or null.</param>
/// <param name="ReturnFullMessage">RET=FULL: attach the whole message, else only its header.</param>
public sealed record DsnReport(
    string ReportingMta,
    string Sender,
    string? EnvelopeId,
    DateTimeOffset ArrivalDate,
    bool ReturnFullMessage,
    IReadOnlyList<DsnRecipient> Recipients,
    DateTimeOffset Date);

/// <summary>Builds RFC 3464 delivery status notifications with MimeKit.</summary>
public static class DsnBuilder
{
    /// <summary>Returns the DSN: <c>multipart/report; report-type=delivery-status</c> with a
    /// text part, a <c>message/delivery-status</c> part and the original message
    /// (<c>message/rfc822</c>, RET=FULL) or its header (<c>text/rfc822-headers</c>).
    /// <paramref name="original"/> must stay open until the result has been written.</summary>
    public static async Task<MimeMessage> BuildAsync(DsnReport report, Stream original, CancellationToken cancellationToken)
    {
        if (report.Recipients.Count == 0)
        {
            throw new ArgumentException("A DSN needs at least one recipient.", nameof(report));
        }

        var kind = Kind(report.Recipients);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + report.ReportingMta));
        // The envelope sender as given (it passed RFC 5321 checks at MAIL FROM); not re-parsed as
        // an RFC 5322 address, which would refuse some valid envelope forms.
        message.To.Add(new MailboxAddress("", report.Sender));
        message.Subject = kind switch
        {
            DsnAction.Failed => "Undelivered Mail Returned to Sender",
            DsnAction.Delayed => "Delayed Mail (still being retried)",
            _ => "Successful Mail Delivery Report",
        };
        message.Date = report.Date;
        message.MessageId = MimeUtils.GenerateMessageId(report.ReportingMta);

        // RFC 3834 §5: automatic responses are marked so that they are not answered in turn.
        message.Headers.Add("Auto-Submitted", "auto-replied");

        var multipart = new MultipartReport("delivery-status")
        {
            new TextPart("plain") { Text = HumanReadable(report, kind) },
            StatusPart(report),
        };

        if (report.ReturnFullMessage)
        {
            var originalMessage = await MimeMessage.LoadAsync(original, persistent: true, cancellationToken).ConfigureAwait(false);
            multipart.Add(new MessagePart("rfc822") { Message = originalMessage });
        }
        else
        {
            var headers = await ReadHeaderBlockAsync(original, cancellationToken).ConfigureAwait(false);
            using var headerStream = new MemoryStream(headers, writable: false);
            var headerMessage = await MimeMessage.LoadAsync(headerStream, cancellationToken).ConfigureAwait(false);
            multipart.Add(new TextRfc822Headers { Message = headerMessage });
        }

        message.Body = multipart;
        return message;
    }

    private static DsnAction Kind(IReadOnlyList<DsnRecipient> recipients)
    {
        if (recipients.Any(r => r.Action == DsnAction.Failed))
        {
            return DsnAction.Failed;
        }

        return recipients.Any(r => r.Action == DsnAction.Delayed) ? DsnAction.Delayed : DsnAction.Delivered;
    }

    private static string HumanReadable(DsnReport report, DsnAction kind)
    {
        var text = new StringBuilder();
        text.Append("This is the mail system at host ").Append(report.ReportingMta).Append(".\r\n\r\n");
        text.Append(kind switch
        {
            DsnAction.Failed => "I'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.",
            DsnAction.Delayed => "Your message could not be delivered yet to one or more recipients.\r\nDelivery will be retried; you do not need to resend the message.",
            _ => "Your message was successfully delivered to the destinations listed below.",
        });
        text.Append("\r\n\r\n");
        foreach (var r in report.Recipients)
        {
            text.Append('<').Append(r.Address).Append(">: ");
            text.Append(r.Diagnostic ?? r.Status);
            if (r.RemoteMta is not null)
            {
                text.Append(" (remote host ").Append(r.RemoteMta).Append(')');
            }

            if (r.Action == DsnAction.Delayed && r.WillRetryUntil is { } until)
            {
                text.Append("\r\n    Delivery will be retried until ").Append(DateUtils.FormatDate(until));
            }

            text.Append("\r\n");
        }

        return text.ToString();
    }

    private static MessageDeliveryStatus StatusPart(DsnReport report)
    {
        var part = new MessageDeliveryStatus();

        // RFC 3464 §2.2: per-message fields.
        var perMessage = new HeaderList();
        if (report.EnvelopeId is not null)
        {
            perMessage.Add(new Header("Original-Envelope-Id", report.EnvelopeId));
        }

        perMessage.Add(new Header("Reporting-MTA", "dns; " + report.ReportingMta));
        perMessage.Add(new Header("Arrival-Date", DateUtils.FormatDate(report.ArrivalDate)));
        part.StatusGroups.Add(perMessage);

        // RFC 3464 §2.3: per-recipient fields.
        foreach (var r in report.Recipients)
        {
            var fields = new HeaderList();
            if (r.OriginalRecipient is not null)
            {
                fields.Add(new Header("Original-Recipient", OriginalRecipientField(r.OriginalRecipient)));
            }

            // RFC 6533 §3: an address with non-ASCII characters has the "utf-8" address type.
            fields.Add(new Header("Final-Recipient", (System.Text.Ascii.IsValid(r.Address) ? "rfc822; " : "utf-8; ") + r.Address));
            fields.Add(new Header("Action", ActionWord(r.Action)));
            fields.Add(new Header("Status", r.Status));
            if (r.RemoteMta is not null)
            {
                fields.Add(new Header("Remote-MTA", "dns; " + r.RemoteMta));
            }

            if (r.Diagnostic is not null)
            {
                fields.Add(new Header("Diagnostic-Code", "smtp; " + r.Diagnostic));
            }

            if (r.LastAttemptDate is { } last)
            {
                fields.Add(new Header("Last-Attempt-Date", DateUtils.FormatDate(last)));
            }

            if (r.Action == DsnAction.Delayed && r.WillRetryUntil is { } until)
            {
                fields.Add(new Header("Will-Retry-Until", DateUtils.FormatDate(until)));
            }

            part.StatusGroups.Add(fields);
        }

        return WithoutTrailingEmptyLine(part);
    }

    /// <summary>RFC 3464 §2.1: <c>per-message-fields 1*( CRLF per-recipient-fields )</c> — blank
    /// lines only between groups. MimeKit's serializer ends every group, the last included, with
    /// an empty line, which a reader (MimeKit too) takes for an empty last recipient group; the
    /// content is written once and that last empty line dropped.</summary>
    private static MessageDeliveryStatus WithoutTrailingEmptyLine(MessageDeliveryStatus part)
    {
        if (part.Content is null)
        {
            return part;
        }

        using var written = new MemoryStream();
        part.Content.DecodeTo(written);
        var bytes = written.GetBuffer().AsSpan(0, (int)written.Length);
        var length = bytes.Length;
        if (bytes.EndsWith("\r\n\r\n"u8))
        {
            length -= 2;
        }
        else if (bytes.EndsWith("\n\n"u8))
        {
            length -= 1;
        }

        part.Content = new MimeContent(new MemoryStream(bytes[..length].ToArray(), writable: false));
        return part;
    }

    /// <summary>ORCPT arrives as <c>addr-type;xtext</c> (RFC 3461 §4.2); the DSN field is
    /// <c>addr-type; address</c> with the xtext decoded (RFC 3464 §2.3.1).</summary>
    internal static string OriginalRecipientField(string orcpt)
    {
        var semi = orcpt.IndexOf(';', StringComparison.Ordinal);
        if (semi <= 0)
        {
            return "rfc822; " + orcpt.Trim();
        }

        return orcpt[..semi].Trim() + "; " + DecodeXtext(orcpt[(semi + 1)..].Trim());
    }

    /// <summary>RFC 3461 §4: xtext encodes <c>+</c>, <c>=</c> and non-printables as <c>+HH</c>.</summary>
    internal static string DecodeXtext(string xtext)
    {
        if (!xtext.Contains('+', StringComparison.Ordinal))
        {
            return xtext;
        }

        var sb = new StringBuilder(xtext.Length);
        for (var i = 0; i < xtext.Length; i++)
        {
            if (xtext[i] == '+' && i + 2 < xtext.Length &&
                byte.TryParse(xtext.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b) &&
                b is >= 0x21 and < 0x7f)
            {
                sb.Append((char)b);
                i += 2;
            }
            else
            {
                sb.Append(xtext[i]);
            }
        }

        return sb.ToString();
    }

    private static string ActionWord(DsnAction action) => action switch
    {
        DsnAction.Failed => "failed",
        DsnAction.Delayed => "delayed",
        DsnAction.Delivered => "delivered",
        _ => "relayed",
    };

    /// <summary>Reads the original's header block (up to and including the empty line).
    /// Bounded: a header larger than 1 MiB is cut, which only shortens the excerpt.</summary>
    private static async Task<byte[]> ReadHeaderBlockAsync(Stream original, CancellationToken cancellationToken)
    {
        const int limit = 1 << 20;
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        var state = 0; // counts progress through CR LF CR LF
        while (buffer.Length < limit)
        {
            var read = await original.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            for (var i = 0; i < read; i++)
            {
                var b = chunk[i];
                state = (state, b) switch
                {
                    (0, (byte)'\r') or (2, (byte)'\r') => state + 1,
                    (1, (byte)'\n') => 2,
                    (3, (byte)'\n') => 4,
                    (_, (byte)'\r') => 1,
                    _ => 0,
                };
                if (state == 4)
                {
                    buffer.Write(chunk, 0, i + 1);
                    return buffer.ToArray();
                }
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}