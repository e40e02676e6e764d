using System.Globalization;
using System.Text;

using MimeKit;

namespace Pochta.Client.Compose;

/// <summary>Reply and forward drafts (RFC 5322 §3.6.4: In-Reply-To, References).</summary>
internal static class ReplyBuilder
{
    public static Draft Reply(MimeMessage original, MailboxAddress self, bool all, string text)
    {
        ArgumentNullException.ThrowIfNull(original);

        // RFC 5322 §3.6.2: replies go to Reply-To when present, else From.
        var to = Distinct((original.ReplyTo.Count > 0 ? original.ReplyTo : original.From).Mailboxes, self, []);
        var cc = all ? Distinct(original.To.Mailboxes.Concat(original.Cc.Mailboxes), self, to) : [];
        if (to.Count == 0 && cc.Count == 0)
        {
            // Replying to one's own message: answer its recipients.
            to = Distinct(original.To.Mailboxes, self, []);
        }

        var references = original.References.ToList();
        if (original.MessageId is { } id)
        {
            references.Add(id);
        }

        return new Draft
        {
            From = self,
            To = to,
            Cc = cc,
            Subject = Prefixed("Re: ", original.Subject),
            Text = text.TrimEnd() + "\n\n" + Quote(original),
            InReplyTo = original.MessageId,
            References = references,
        };
    }

    public static Draft Forward(MimeMessage original, MailboxAddress self, IReadOnlyList<InternetAddress> to, IReadOnlyList<InternetAddress> cc, string text) =>
        new()
        {
            From = self,
            To = to,
            Cc = cc,
            Subject = Prefixed("Fwd: ", original.Subject),
            Text = text,
            Forwarded = original,
        };

    internal static string Prefixed(string prefix, string? subject)
    {
        subject ??= string.Empty;
        return subject.StartsWith(prefix.Trim(), StringComparison.OrdinalIgnoreCase) ? subject : prefix + subject;
    }

    private static string Quote(MimeMessage original)
    {
        var body = original.TextBody ?? (original.HtmlBody is { } html ? HtmlText.ToPlainText(html) : string.Empty);
        var from = original.From.Mailboxes.FirstOrDefault();
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"On {original.Date:ddd, d MMM yyyy HH:mm zzz}, {from?.ToString() ?? "unknown"} wrote:\n");
        using var reader = new StringReader(body.TrimEnd());
        while (reader.ReadLine() is { } line)
        {
            builder.Append(line.StartsWith('>') ? ">" : "> ").Append(line).Append('\n');
        }

        return builder.ToString();
    }

    private static List<InternetAddress> Distinct(IEnumerable<MailboxAddress> addresses, MailboxAddress self, IReadOnlyList<InternetAddress> exclude)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { self.Address };
        foreach (var excluded in exclude.OfType<MailboxAddress>())
        {
            seen.Add(excluded.Address);
        }

        var result = new List<InternetAddress>();
        foreach (var address in addresses)
        {
            if (seen.Add(address.Address))
            {
                result.Add(address);
            }
        }

        return result;
    }
}