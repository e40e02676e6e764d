using Pochta.Smtp.Protocol;

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

    internal static async ValueTask<SmtpReply> CommitAsync(SmtpSession session, SmtpTransaction transaction, CancellationToken cancellationToken)
    {
        try
        {
            await transaction.Inbound.CommitAsync(cancellationToken);
            return SmtpReplies.Accepted(transaction.Inbound.Id);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            session.LogCommitFailed(e);
            return SmtpReplies.LocalError;
        }
    }
}