using Pochta.Core;
using Pochta.Delivery.Inbound;
using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Handlers;

/// <summary>
/// RFC 5321 §4.1.1.3 RCPT. Every recipient is resolved now: unknown local users get 550 5.1.1
/// here, never a later bounce. Remote domains need AUTH or a trusted network (554 5.7.1).
/// Quotas (RFC 3463 X.2.2, RFC 1870 §6.1): a local mailbox that is full, or has less room
/// than the MAIL SIZE= declares, gets 452 4.2.2 (the sender retries later); a SIZE= above the
/// mailbox's whole quota gets 552 5.2.2 (it can never fit).
/// </summary>
internal sealed class RcptHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        var rcpt = (SmtpRcptCommand)command;
        var transaction = session.Transaction!;
        if (rcpt.HasParameters && !session.Extended)
        {
            session.Reply(SmtpReplies.UnknownParameter);
            return true;
        }

        // RFC 6531 §3.4: a non-ASCII path needs SMTPUTF8 on MAIL.
        if (rcpt.PathIsUtf8 && !transaction.Mail.SmtpUtf8)
        {
            session.Reply(SmtpReplies.Utf8NotAllowed);
            return true;
        }

        if (transaction.Inbound.RecipientCount >= session.Context.Options.MaxRecipients)
        {
            session.Reply(SmtpReplies.TooManyRecipients);
            return true;
        }

        // RFC 5321 §4.1.1.3: <Postmaster> without a domain is the postmaster of this host.
        var recipient = rcpt.Recipient;
        if (recipient is null && !EmailAddress.TryParse("postmaster@" + session.HostName, out recipient))
        {
            session.Reply(SmtpReplies.UnknownUser);
            return true;
        }

        var verdict = await transaction.Inbound.AddRecipientAsync(recipient, rcpt.NotifyText, rcpt.OriginalRecipient, session.MayRelay, cancellationToken);
        session.Reply(verdict switch
        {
            RecipientVerdict.Accepted or RecipientVerdict.Duplicate => SmtpReplies.RecipientOk,
            RecipientVerdict.UnknownUser => SmtpReplies.UnknownUser,
            RecipientVerdict.Disabled => SmtpReplies.MailboxDisabled,
            RecipientVerdict.AliasLoop => SmtpReplies.AliasLoop,
            RecipientVerdict.RelayDenied => SmtpReplies.RelayDenied,
            RecipientVerdict.MailboxFull => SmtpReplies.MailboxFull,
            RecipientVerdict.MessageExceedsQuota => SmtpReplies.MessageExceedsQuota,
            _ => SmtpReplies.RecipientTemporary,
        });

        if (verdict is RecipientVerdict.Accepted or RecipientVerdict.Duplicate && session.State == SmtpState.Mail)
        {
            session.State = SmtpState.Rcpt;
        }

        return true;
    }
}