using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;

namespace Pochta.Hosting;

public enum TlsUpgradeResult
{
    Success,

    /// <summary>The client sent bytes after the STARTTLS command before the handshake
    /// (CVE-2011-0411 class). Nothing was written; the caller must close the connection.</summary>
    PipelinedInput,

    /// <summary>The handshake failed; the connection is unusable and must be closed.</summary>
    HandshakeFailed,
}

/// <summary>Negotiated TLS parameters, for Received headers and logs.</summary>
public sealed record TlsDetails(SslProtocols Protocol, TlsCipherSuite CipherSuite)
{
    /// <summary>E.g. <c>TLSv1.3:TLS_AES_256_GCM_SHA384</c>.</summary>
    public override string ToString() => $"{ProtocolName}:{CipherSuite}";

    public string ProtocolName => Protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => Protocol.ToString(),
    };
}

/// <summary>
/// One client connection as a protocol session sees it: a duplex pipe that may be swapped
/// onto TLS once, the peer's address and the security facts that policy depends on.
/// </summary>
public sealed class MailConnection
{
    private readonly Func<SslServerAuthenticationOptions>? _tlsOptions;
    private IDuplexPipe _transport;
    private SslStream? _ssl;

    public MailConnection(
        IDuplexPipe transport,
        ListenerInfo listener,
        IPEndPoint? remoteEndPoint,
        Func<SslServerAuthenticationOptions>? tlsOptions,
        bool loopbackIsSecure,
        string? id = null)
    {
        _transport = transport;
        _tlsOptions = tlsOptions;
        Listener = listener;
        RemoteEndPoint = remoteEndPoint;
        LoopbackIsSecure = loopbackIsSecure;
        Id = id ?? Guid.NewGuid().ToString("N")[..12];
    }

    public string Id { get; }

    public ListenerInfo Listener { get; }

    public IPEndPoint? RemoteEndPoint { get; }

    public PipeReader Input => _transport.Input;

    public PipeWriter Output => _transport.Output;

    public TlsDetails? Tls { get; private set; }

    public bool IsTls => Tls is not null;

    public bool IsLoopback => RemoteEndPoint is { } ep && IPAddress.IsLoopback(ep.Address);

    /// <summary>Loopback connections count as secure for plaintext authentication (as Dovecot does).</summary>
    public bool LoopbackIsSecure { get; }

    /// <summary>May a password be sent in the clear on this connection?</summary>
    public bool IsSecure => IsTls || (LoopbackIsSecure && IsLoopback);

    /// <summary>STARTTLS may be offered: a certificate is configured and TLS is not yet active.</summary>
    public bool CanStartTls => !IsTls && _tlsOptions is not null;

    /// <summary>Set by the host when this client IP already has the maximum number of connections.</summary>
    public bool OverConnectionLimit { get; init; }

    /// <summary>
    /// The one STARTTLS routine for SMTP (RFC 3207), IMAP (RFC 9051 §6.2.1) and POP3 (RFC 2595).
    /// The caller has consumed the command line (AdvanceTo past it). If anything else is already
    /// buffered the client pipelined plaintext after STARTTLS: nothing is written and
    /// <see cref="TlsUpgradeResult.PipelinedInput"/> is returned. Otherwise <paramref name="readyReply"/>
    /// is written in the clear and the handshake runs.
    /// </summary>
    public async Task<TlsUpgradeResult> StartTlsAsync(ReadOnlyMemory<byte> readyReply, CancellationToken cancellationToken)
    {
        if (!CanStartTls)
        {
            throw new InvalidOperationException("TLS is not available on this connection.");
        }

        if (Input.TryRead(out var pending))
        {
            var hasData = !pending.Buffer.IsEmpty;
            Input.AdvanceTo(pending.Buffer.Start);
            if (hasData)
            {
                return TlsUpgradeResult.PipelinedInput;
            }
        }

        await Output.WriteAsync(readyReply, cancellationToken);
        return await AuthenticateAsync(cancellationToken) ? TlsUpgradeResult.Success : TlsUpgradeResult.HandshakeFailed;
    }

    /// <summary>Implicit TLS: the handshake before any protocol byte (RFC 8314).</summary>
    public async Task<bool> StartImplicitTlsAsync(CancellationToken cancellationToken)
    {
        if (!CanStartTls)
        {
            throw new InvalidOperationException("TLS is not available on this connection.");
        }

        return await AuthenticateAsync(cancellationToken);
    }

    private async Task<bool> AuthenticateAsync(CancellationToken cancellationToken)
    {
        var inner = new DuplexPipeStream(_transport);
        var ssl = new SslStream(inner, leaveInnerStreamOpen: true);
        try
        {
            await ssl.AuthenticateAsServerAsync(_tlsOptions!(), cancellationToken);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
        {
            await ssl.DisposeAsync();
            return false;
        }

        _ssl = ssl;
        Tls = new TlsDetails(ssl.SslProtocol, ssl.NegotiatedCipherSuite);
        _transport = new SslDuplexPipe(ssl);
        return true;
    }

    /// <summary>Flushes and closes TLS (close_notify) if it is active.</summary>
    public async ValueTask CompleteAsync()
    {
        if (_ssl is not null)
        {
            try
            {
                await _transport.Output.CompleteAsync();
                await _transport.Input.CompleteAsync();
                await _ssl.ShutdownAsync();
            }
            catch (IOException)
            {
                // The peer went away first; nothing left to flush.
            }
            catch (ObjectDisposedException)
            {
            }

            await _ssl.DisposeAsync();
        }
    }

    private sealed class SslDuplexPipe(SslStream ssl) : IDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true));

        public PipeWriter Output { get; } = PipeWriter.Create(ssl, new StreamPipeWriterOptions(leaveOpen: true));
    }
}