using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Pochta.Delivery.Tests.Fakes;

/// <summary>Where the scripted server hangs up.</summary>
public enum DropPoint
{
    None,
    AfterGreeting,
    AfterMailFrom,

    /// <summary>After the message was received, before the reply to the final dot.</summary>
    BeforeDataReply,

    /// <summary>STARTTLS answered 220, then the handshake is broken (garbage and close).</summary>
    DuringTlsHandshake,
}

/// <summary>One completed (or attempted) SMTP transaction seen by the fake server.</summary>
public sealed record FakeTransaction(int Connection, bool Tls, string MailFrom, IReadOnlyList<string> RcptLines, IReadOnlyList<string> Accepted, byte[]? Data);

/// <summary>
/// A scripted remote SMTP server on 127.0.0.1:0 for the outbound tests: per-recipient replies,
/// a configurable EHLO extension list, STARTTLS with a self-signed certificate, dropped
/// connections and a gate that holds the greeting back (a slow server).
/// </summary>
public sealed class FakeSmtpServer : IAsyncDisposable
{
    private static readonly Lazy<X509Certificate2> Certificate = new(CreateCertificate);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly ConcurrentBag<Task> _sessions = [];
    private int _connections;
    private int _active;
    private int _maxActive;
    private int _quits;

    public FakeSmtpServer()
    {
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Endpoint => "127.0.0.1:" + Port;

    public string Greeting { get; set; } = "220 fake.test ESMTP";

    public bool StartTls { get; set; }

    public bool Pipelining { get; set; } = true;

    public bool SmtpUtf8 { get; set; } = true;

    public bool EightBitMime { get; set; } = true;

    public bool Dsn { get; set; } = true;

    /// <summary>Advertised SIZE; null: not offered.</summary>
    public long? Size { get; set; } = 10_000_000;

    public Func<string, string> MailReply { get; set; } = _ => "250 2.1.0 Sender OK";

    /// <summary>Reply to RCPT TO by recipient address (without angle brackets).</summary>
    public Func<string, string> RcptReply { get; set; } = _ => "250 2.1.5 Recipient OK";

    public Func<string> DataReply { get; set; } = () => "250 2.0.0 Queued as 1";

    public DropPoint Drop { get; set; }

    /// <summary>When set, each connection waits for it before sending the greeting.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public ConcurrentQueue<FakeTransaction> Transactions { get; } = new();

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>QUIT commands received (sessions the client closed politely).</summary>
    public int Quits => Volatile.Read(ref _quits);

    public int MaxConcurrentConnections => Volatile.Read(ref _maxActive);

    /// <summary>Completes when a connection has been accepted and is waiting at the gate.</summary>
    public TaskCompletionSource ConnectionWaiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IEnumerable<FakeTransaction> Delivered => Transactions.Where(t => t.Data is not null);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Gate?.TrySetResult();
        try
        {
            await _accept;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        foreach (var s in _sessions)
        {
            try
            {
                await s.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception)
            {
                // A session that ends badly is part of the script.
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            var number = Interlocked.Increment(ref _connections);
            _sessions.Add(Task.Run(() => RunSessionAsync(socket, number)));
        }
    }

    private async Task RunSessionAsync(Socket socket, int number)
    {
        var active = Interlocked.Increment(ref _active);
        int seen;
        while (active > (seen = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, active, seen) != seen)
        {
        }

        try
        {
            using (socket)
            {
                Stream stream = new NetworkStream(socket, ownsSocket: false);
                try
                {
                    await ConverseAsync(stream, number, _stop.Token);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
                {
                }
                finally
                {
                    await stream.DisposeAsync();
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private async Task ConverseAsync(Stream stream, int number, CancellationToken ct)
    {
        if (Gate is { } gate)
        {
            ConnectionWaiting.TrySetResult();
            await gate.Task.WaitAsync(ct);
        }

        var reader = new LineReader(stream);
        await WriteAsync(stream, Greeting, ct);
        if (!Greeting.StartsWith("220", StringComparison.Ordinal) || Drop == DropPoint.AfterGreeting)
        {
            return;
        }

        var tls = false;
        string? mailFrom = null;
        var rcpts = new List<string>();
        var accepted = new List<string>();
        while (true)
        {
            var line = await reader.ReadLineAsync(ct);
            if (line is null)
            {
                if (mailFrom is not null)
                {
                    Transactions.Enqueue(new FakeTransaction(number, tls, mailFrom, rcpts, accepted, null));
                }

                return;
            }

            var text = Encoding.UTF8.GetString(line);
            var verb = text.Length >= 4 ? text[..4].ToUpperInvariant() : text.ToUpperInvariant();
            switch (verb)
            {
                case "EHLO":
                    await WriteAsync(stream, Ehlo(tls), ct);
                    break;
                case "HELO":
                    await WriteAsync(stream, "250 fake.test", ct);
                    break;
                case "STAR":
                    if (!StartTls || tls)
                    {
                        await WriteAsync(stream, "502 5.5.1 Not offered", ct);
                        break;
                    }

                    await WriteAsync(stream, "220 2.0.0 Ready to start TLS", ct);
                    if (Drop == DropPoint.DuringTlsHandshake)
                    {
                        await stream.WriteAsync("this is not TLS\r\n"u8.ToArray(), ct);
                        return;
                    }

                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate.Value }, ct);
                    stream = ssl;
                    reader = new LineReader(stream);
                    tls = true;
                    mailFrom = null;
                    rcpts = [];
                    accepted = [];
                    break;
                case "MAIL":
                    mailFrom = text;
                    rcpts = [];
                    accepted = [];
                    if (Drop == DropPoint.AfterMailFrom)
                    {
                        return;
                    }

                    await WriteAsync(stream, MailReply(text), ct);
                    break;
                case "RCPT":
                    rcpts.Add(text);
                    var address = AddressOf(text);
                    var reply = RcptReply(address);
                    if (reply.StartsWith('2'))
                    {
                        accepted.Add(address);
                    }

                    await WriteAsync(stream, reply, ct);
                    break;
                case "DATA":
                    if (mailFrom is null || accepted.Count == 0)
                    {
                        await WriteAsync(stream, "554 5.5.1 No valid recipients", ct);
                        break;
                    }

                    await WriteAsync(stream, "354 Go ahead", ct);
                    var data = await reader.ReadDataAsync(ct);
                    if (data is null)
                    {
                        return;
                    }

                    if (Drop == DropPoint.BeforeDataReply)
                    {
                        Transactions.Enqueue(new FakeTransaction(number, tls, mailFrom, rcpts, accepted, null));
                        return;
                    }

                    var dataReply = DataReply();
                    Transactions.Enqueue(new FakeTransaction(number, tls, mailFrom, rcpts, accepted, dataReply.StartsWith('2') ? data : null));
                    mailFrom = null;
                    await WriteAsync(stream, dataReply, ct);
                    break;
                case "RSET":
                    if (mailFrom is not null)
                    {
                        Transactions.Enqueue(new FakeTransaction(number, tls, mailFrom, rcpts, accepted, null));
                    }

                    mailFrom = null;
                    await WriteAsync(stream, "250 2.0.0 OK", ct);
                    break;
                case "NOOP":
                    await WriteAsync(stream, "250 2.0.0 OK", ct);
                    break;
                case "QUIT":
                    Interlocked.Increment(ref _quits);
                    await WriteAsync(stream, "221 2.0.0 Bye", ct);
                    return;
                default:
                    await WriteAsync(stream, "500 5.5.2 Unknown command", ct);
                    break;
            }
        }
    }

    private string Ehlo(bool tls)
    {
        var lines = new List<string> { "fake.test" };
        if (Pipelining)
        {
            lines.Add("PIPELINING");
        }

        if (Size is { } size)
        {
            lines.Add("SIZE " + size);
        }

        if (EightBitMime)
        {
            lines.Add("8BITMIME");
        }

        if (SmtpUtf8)
        {
            lines.Add("SMTPUTF8");
        }

        if (Dsn)
        {
            lines.Add("DSN");
        }

        if (StartTls && !tls)
        {
            lines.Add("STARTTLS");
        }

        lines.Add("ENHANCEDSTATUSCODES");
        var sb = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            sb.Append("250").Append(i == lines.Count - 1 ? ' ' : '-').Append(lines[i]);
            if (i < lines.Count - 1)
            {
                sb.Append("\r\n");
            }
        }

        return sb.ToString();
    }

    private static string AddressOf(string rcptLine)
    {
        var open = rcptLine.IndexOf('<', StringComparison.Ordinal);
        var close = rcptLine.IndexOf('>', StringComparison.Ordinal);
        return open >= 0 && close > open ? rcptLine[(open + 1)..close] : rcptLine;
    }

    private static async Task WriteAsync(Stream stream, string reply, CancellationToken ct)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(reply + "\r\n"), ct);
        await stream.FlushAsync(ct);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=fake.test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("fake.test");
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    /// <summary>Reads CRLF lines and dot-terminated DATA as raw bytes.</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16384];
        private int _start;
        private int _end;

        public async Task<byte[]?> ReadLineAsync(CancellationToken ct)
        {
            var line = new List<byte>();
            while (true)
            {
                while (_start < _end)
                {
                    var b = _buffer[_start++];
                    if (b == '\n')
                    {
                        if (line.Count > 0 && line[^1] == '\r')
                        {
                            line.RemoveAt(line.Count - 1);
                        }

                        return [.. line];
                    }

                    line.Add(b);
                }

                _start = 0;
                _end = await stream.ReadAsync(_buffer, ct);
                if (_end == 0)
                {
                    return null;
                }
            }
        }

        /// <summary>The message with dot-stuffing removed and CRLF line ends.</summary>
        public async Task<byte[]?> ReadDataAsync(CancellationToken ct)
        {
            var data = new MemoryStream();
            while (true)
            {
                var line = await ReadLineAsync(ct);
                if (line is null)
                {
                    return null;
                }

                if (line is [(byte)'.'])
                {
                    return data.ToArray();
                }

                var start = line is [(byte)'.', ..] ? 1 : 0;
                data.Write(line, start, line.Length - start);
                data.Write("\r\n"u8);
            }
        }
    }
}