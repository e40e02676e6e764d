using Pochta.Delivery.Inbound;
using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Handlers;

/// <summary>
/// RFC 5321 §4.1.1.2 MAIL. Submission listeners (RFC 6409 §4.3) need AUTH first and, unless
/// disabled, a sender the account owns. SIZE (RFC 1870 §6) and free disk are checked here, so
/// a transfer that cannot succeed is refused before any data is sent.
/// </summary>
internal sealed class MailHandler : ISmtpCommandHandler
{
    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        var mail = (SmtpMailCommand)command;
        var context = session.Context;
        var options = context.Options;

        // RFC 5321 §4.1.1.11: parameters only after EHLO.
        if (mail.HasParameters && !session.Extended)
        {
            session.Reply(SmtpReplies.UnknownParameter);
            return true;
        }

        if (session.IsSubmission && session.User is null)
        {
            session.Reply(SmtpReplies.AuthRequired);
            return true;
        }

        if (mail.Size is { } declared && declared > options.MaxMessageSize)
        {
            session.Reply(SmtpReplies.MessageTooBig);
            return true;
        }

        if (options.MinFreeDiskFactor > 0 && context.DiskSpace.GetAvailableBytes() is { } free &&
            free < options.MinFreeDiskFactor * options.MaxMessageSize)
        {
            session.Reply(SmtpReplies.InsufficientStorage);
            return true;
        }

        if (session.IsSubmission && options.RequireSenderOwnership && mail.Sender is { } sender &&
            !await context.Delivery.Resolver.MaySendAsAsync(session.User!.AccountId, session.User.Address, sender, cancellationToken))
        {
            session.Reply(SmtpReplies.SenderNotOwned);
            return true;
        }

        var envelope = new InboundEnvelope(mail.Sender, mail.EnvelopeId, mail.Return == DsnReturn.Full, mail.Size);
        session.Transaction = new SmtpTransaction(context.Delivery.Begin(envelope), mail);
        session.State = SmtpState.Mail;
        session.Reply(SmtpReplies.SenderOk);
        return true;
    }
}