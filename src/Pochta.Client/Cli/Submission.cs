using MailKit;

using MimeKit;

using Pochta.Client.Config;

namespace Pochta.Client.Cli;

internal sealed record SendResult(string? MessageId, string[] Recipients, bool SavedToSent);

/// <summary>Submits a composed message (RFC 6409) and appends the same message to Sent over IMAP.</summary>
internal static class Submission
{
    public static MailboxAddress Self(AccountConfig account) => new(account.DisplayName ?? string.Empty, account.Address);

    public static async Task<SendResult> SendAsync(VerbContext context, AccountConfig account, MimeMessage message, bool saveCopy)
    {
        var recipients = message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes)
            .Select(m => m.Address).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        using (var smtp = await context.Connector.SmtpAsync(account, context.CancellationToken))
        {
            // MailKit leaves Bcc out of the transmitted header (RFC 5322 §3.6.3) and sends to all.
            await smtp.SendAsync(message, context.CancellationToken);
            await smtp.DisconnectAsync(quit: true, context.CancellationToken);
        }

        var saved = false;
        if (saveCopy && account.Imap is not null)
        {
            try
            {
                var imap = await context.ImapAsync(account);
                var sent = await Folders.FindSpecialAsync(imap, SpecialFolder.Sent, context.CancellationToken);
                if (sent is null)
                {
                    await context.Error.WriteLineAsync("pochta mail: warning: no Sent folder; no copy kept");
                }
                else
                {
                    await sent.AppendAsync(new AppendRequest(message, MessageFlags.Seen), context.CancellationToken);
                    saved = true;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The message is already submitted: report, do not fail the send.
                var (_, text) = Verb.Describe(e);
                await context.Error.WriteLineAsync("pochta mail: warning: sent, but the copy to Sent failed: " + text);
            }
        }

        return new SendResult(message.MessageId, recipients, saved);
    }

    public static void Report(VerbContext context, SendResult result)
    {
        if (context.Json)
        {
            context.WriteJson(result);
        }
        else
        {
            context.Out.WriteLine($"sent <{result.MessageId}> to {result.Recipients.Length} recipient(s){(result.SavedToSent ? "; copy in Sent" : string.Empty)}");
        }
    }
}