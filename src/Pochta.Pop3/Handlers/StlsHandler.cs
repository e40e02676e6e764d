using Pochta.Hosting;
using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 2595 §4 STLS through the shared upgrade routine. A client that pipelined anything
/// after STLS is disconnected without a reply (CVE-2011-0411 class); after the handshake the
/// session is in AUTHORIZATION with nothing remembered from the plaintext phase.</summary>
internal sealed class StlsHandler : IPop3CommandHandler
{
    private static readonly byte[] Ready = "+OK Begin TLS negotiation\r\n"u8.ToArray();

    public async Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        if (!session.Connection.CanStartTls)
        {
            session.Err(session.Connection.IsTls ? "Already using TLS"u8 : "TLS is not available"u8);
            return;
        }

        // Answers to commands pipelined before STLS go out in the clear first.
        await session.FlushAsync(cancellationToken);
        var result = await session.Connection.StartTlsAsync(Ready, cancellationToken);
        if (result != TlsUpgradeResult.Success)
        {
            session.CloseRequested = true;
            return;
        }

        session.ResetAfterTls();
    }
}