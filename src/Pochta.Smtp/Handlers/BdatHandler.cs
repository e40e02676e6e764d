using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Handlers;

/// <summary>
/// RFC 3030 BDAT: exactly <c>n</c> octets follow the command; no dot-stuffing. The chunk is always
/// read (even when refused) so the command stream stays in sync. Any refusal aborts the
/// transaction. LAST commits; its 250 follows the commit.
/// </summary>
internal sealed class BdatHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        var bdat = (SmtpBdatCommand)command;
        var transaction = session.Transaction!;
        if (transaction.Inbound.RecipientCount == 0)
        {
            if (!await session.ReceiveChunkAsync(bdat.Size, null, cancellationToken))
            {
                return false;
            }

            await session.ResetTransactionAsync();
            session.Reply(SmtpReplies.NoValidRecipients);
            return true;
        }

        if (!transaction.BodyStarted)
        {
            await transaction.Inbound.StartBodyAsync(session.Trace(), cancellationToken);
            transaction.BodyStarted = true;
        }

        session.State = SmtpState.Chunking;
        if (!await session.ReceiveChunkAsync(bdat.Size, transaction, cancellationToken))
        {
            await session.ResetTransactionAsync();
            return false;
        }

        if (transaction.Oversized)
        {
            await session.ResetTransactionAsync();
            session.Reply(SmtpReplies.MessageTooBig);
            return true;
        }

        if (!bdat.Last)
        {
            session.Reply(SmtpReplies.ChunkOk);
            return true;
        }

        var reply = await DataHandler.CommitAsync(session, transaction, cancellationToken);
        await session.ResetTransactionAsync();
        session.Reply(reply);
        return true;
    }
}