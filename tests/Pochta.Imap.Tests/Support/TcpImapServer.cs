using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Pochta.Core;
using Pochta.Hosting;

namespace Pochta.Imap.Tests.Support;

/// <summary>The harness's IMAP handler on a loopback socket (ephemeral port), for real clients.
/// STARTTLS uses a throw-away self-signed certificate.</summary>
internal sealed class TcpImapServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _sessions = [];
    private readonly X509Certificate2 _certificate;
    private readonly Task _accept;

    public TcpImapServer(ImapHarness harness, bool loopbackIsSecure = true)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _certificate = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptAsync(harness, loopbackIsSecure);
    }

    public int Port { get; }

    /// <summary>The test certificate's SHA-1 thumbprint (clients pin it).</summary>
    public string Thumbprint => _certificate.Thumbprint;

    private async Task AcceptAsync(ImapHarness harness, bool loopbackIsSecure)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _sessions.Add(RunAsync(harness, socket, loopbackIsSecure));
        }
    }

    private async Task RunAsync(ImapHarness harness, Socket socket, bool loopbackIsSecure)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var pipe = new StreamPipe(PipeReader.Create(stream), PipeWriter.Create(stream));
        var listener = new ListenerInfo("imap", MailProtocol.Imap, false, new IPEndPoint(IPAddress.Loopback, Port));
        var connection = new MailConnection(pipe, listener, (IPEndPoint?)socket.RemoteEndPoint, () => new SslServerAuthenticationOptions { ServerCertificate = _certificate }, loopbackIsSecure);
        try
        {
            await harness.Handler.RunAsync(connection, _stop.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
        }
        finally
        {
            await connection.CompleteAsync();
            await pipe.Output.CompleteAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        await Task.WhenAll(_sessions).WaitAsync(TimeSpan.FromSeconds(5));
        _certificate.Dispose();
        _stop.Dispose();
    }

    private sealed class StreamPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}