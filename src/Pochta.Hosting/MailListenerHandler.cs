using System.Net;

using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Pochta.Hosting;

/// <summary>
/// Bridges one Kestrel listener to a protocol: per-IP accounting, implicit TLS, then the
/// protocol session. The token given to the session fires when the client goes away or the
/// server is stopping (the session says goodbye and ends after its current command).
/// </summary>
public sealed partial class MailListenerHandler(
    ListenerInfo listener,
    IMailProtocolHandler protocol,
    CertificateStore? certificates,
    ConnectionLimiter limiter,
    ServerOptions options,
    ILogger logger,
    CancellationToken stopping)
{
    public ListenerInfo Listener => listener;

    public async Task OnConnectedAsync(ConnectionContext context)
    {
        var remote = context.RemoteEndPoint as IPEndPoint;
        using var lease = limiter.Acquire(listener.Name, remote?.Address, options.MaxConnectionsPerIp);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed, stopping);
        var connection = new MailConnection(
            context.Transport,
            listener,
            remote,
            certificates is null ? null : certificates.CreateServerOptions,
            options.LoopbackIsSecure,
            context.ConnectionId)
        {
            OverConnectionLimit = !lease.WithinLimit,
        };

        try
        {
            if (listener.ImplicitTls && !await connection.StartImplicitTlsAsync(linked.Token))
            {
                LogHandshakeFailed(logger, listener.Name, remote);
                return;
            }

            await protocol.RunAsync(connection, linked.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException)
        {
            // The client went away or the server is stopping: nothing to report.
        }
        catch (Exception e)
        {
            LogSessionFailed(logger, e, listener.Name, remote);
        }
        finally
        {
            await connection.CompleteAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "TLS handshake failed on {Listener} from {Remote}")]
    private static partial void LogHandshakeFailed(ILogger logger, string listener, IPEndPoint? remote);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session on {Listener} from {Remote} failed")]
    private static partial void LogSessionFailed(ILogger logger, Exception exception, string listener, IPEndPoint? remote);
}