using Pochta.Smtp.Protocol;
using Pochta.Storage;

namespace Pochta.Smtp.Handlers;

/// <summary>
/// RFC 5321 §4.1.1.4 DATA: streams the body to the store; only CRLF.CRLF ends it. Bare CR/LF
/// (smuggling), an oversized body (552 5.3.4, counted while streaming, never buffered) or an
/// over-long line refuse the whole message. The 250 is sent only after the commit returned
/// (fsynced). A disconnect before that stores nothing.
/// </summary>
internal sealed class DataHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        var transaction = session.Transaction!;
        if (transaction.Inbound.RecipientCount == 0)
        {
            // RFC 2920 §3.1: after all RCPTs failed, DATA gets 554, not 354.
            session.Reply(SmtpReplies.NoValidRecipients);
            return true;
        }

        // RFC 3030 §3: BINARYMIME content can only be sent with BDAT.
        if (transaction.Mail.Body == SmtpBodyType.BinaryMime)
        {
            session.Reply(SmtpReplies.BinaryNeedsBdat);
            return true;
        }

        session.Reply(SmtpReplies.StartData);
        await transaction.Inbound.StartBodyAsync(session.Trace(), cancellationToken);
        transaction.BodyStarted = true;
        var outcome = await session.ReceiveDataAsync(transaction, cancellationToken);
        if (outcome is not { } done)
        {
            await session.ResetTransactionAsync();
            return false;
        }

        var reply = done.Oversized ? SmtpReplies.MessageTooBig
            : (done.Defects & (SmtpDataDefects.BareLineFeed | SmtpDataDefects.BareCarriageReturn)) != 0 ? SmtpReplies.BareLineEnding
            : done.Defects != SmtpDataDefects.None ? SmtpReplies.TextLineTooLong
            : await CommitAsync(session, transaction, cancellationToken);
        await session.ResetTransactionAsync();
        session.Reply(reply);
        return true;
    }

    /// <summary>
    /// Commits for every recipient and gives the one reply of the transaction (RFC 5321 §4.2.5:
    /// after DATA one reply covers all recipients; per-recipient replies exist only in LMTP,
    /// RFC 2033). When the quota of some local recipients refuses their copy, the message is
    /// accepted (250) for the others and those recipients are bounced with a DSN (RFC 3461 §6.2,
    /// Status 5.2.2), as Postfix and Exim do. When no recipient can take it, nothing is stored and
    /// the reply is 452 4.2.2 (RFC 3463 X.2.2: mailbox full, the sending MTA keeps the message and
    /// retries; it bounces it itself when its queue lifetime ends), or 552 5.2.2 when the message is
    /// larger than every such mailbox's whole quota and can never fit (RFC 1870 §6.1).
    /// </summary>
    internal static async ValueTask<SmtpReply> CommitAsync(SmtpSession session, SmtpTransaction transaction, CancellationToken cancellationToken)
    {
        try
        {
            await transaction.Inbound.CommitAsync(cancellationToken);
            return SmtpReplies.Accepted(transaction.Inbound.Id);
        }
        catch (QuotaExceededException)
        {
            var size = transaction.Inbound.BodyLength;
            return transaction.Inbound.QuotaFailures.All(f => f.Resource == QuotaResource.Storage && size > f.Limit)
                ? SmtpReplies.MessageExceedsQuota
                : SmtpReplies.MailboxFull;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            session.LogCommitFailed(e);
            return SmtpReplies.LocalError;
        }
    }
}