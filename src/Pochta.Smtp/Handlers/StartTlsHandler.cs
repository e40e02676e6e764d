using Pochta.Hosting;
using Pochta.Smtp.Protocol;

namespace Pochta.Smtp.Handlers;

/// <summary>RFC 3207: upgrade through the one shared routine, <see cref="MailConnection.StartTlsAsync"/>.
/// Plaintext pipelined after STARTTLS closes the connection unanswered (CVE-2011-0411 class).</summary>
internal sealed class StartTlsHandler : ISmtpCommandHandler
{
    private static readonly byte[] Ready = System.Text.Encoding.ASCII.GetBytes(SmtpReplies.StartTlsReady.ToString());

    public async ValueTask<bool> HandleAsync(SmtpSession session, SmtpCommand command, CancellationToken cancellationToken)
    {
        if (session.Connection.IsTls)
        {
            session.Reply(SmtpReplies.AlreadyTls);
            return true;
        }

        if (!session.Connection.CanStartTls)
        {
            session.Reply(SmtpReplies.TlsNotAvailable);
            return true;
        }

        // Earlier replies go out in the clear first; the ready reply is written by the routine.
        await session.FlushAsync(cancellationToken);
        var result = await session.Connection.StartTlsAsync(Ready, cancellationToken);
        if (result != TlsUpgradeResult.Success)
        {
            return false;
        }

        await session.ResetAfterTlsAsync();
        return true;
    }
}