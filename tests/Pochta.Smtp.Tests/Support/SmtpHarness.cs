using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Text;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using Pochta.Core;
using Pochta.Delivery.Inbound;
using Pochta.Delivery.Outbound;
using Pochta.Hosting;
using Pochta.Mime;
using Pochta.Sasl;
using Pochta.Storage;

namespace Pochta.Smtp.Tests.Support;

internal sealed class CountingQueueSignal : IOutboundQueueSignal
{
    public int Count;

    public void Notify() => Interlocked.Increment(ref Count);
}

internal sealed class FixedDiskSpace(long? bytes) : IDiskSpaceProbe
{
    public long? Bytes { get; set; } = bytes;

    public long? GetAvailableBytes() => Bytes;
}

/// <summary>Options for one transcript session.</summary>
internal sealed record HarnessOptions
{
    public MailProtocol Protocol { get; init; } = MailProtocol.Smtp;

    public string Remote { get; init; } = "192.0.2.10";

    public bool OverConnectionLimit { get; init; }

    public Func<SslServerAuthenticationOptions>? Tls { get; init; }

    public bool ImplicitTls { get; init; }

    public Action<SmtpOptions>? Configure { get; init; }
}

/// <summary>
/// Runs one SMTP session over in-memory pipes (C:/S: transcripts) with a FakeTimeProvider.
/// The store and authenticator are given by the test (real SqliteMailStore/Authenticator or the
/// in-memory store for failure injection).
/// </summary>
internal sealed class SmtpHarness : IAsyncDisposable
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private readonly CancellationTokenSource _stop = new();

    private SmtpHarness(IMailStore store, IAuthenticator authenticator, HarnessOptions options)
    {
        Store = store;
        var smtp = new SmtpOptions();
        options.Configure?.Invoke(smtp);
        Options = smtp;
        var resolver = new RecipientResolver(store, Microsoft.Extensions.Options.Options.Create(new InboundOptions()));
        var indexer = new MessageIndexer();
        var dsn = new DsnSender(store, indexer, Signal, NullLogger<DsnSender>.Instance);
        var delivery = new InboundDelivery(store, indexer, resolver, Signal, Time, dsn);
        var context = new SmtpServerContext(
            Microsoft.Extensions.Options.Options.Create(smtp),
            Microsoft.Extensions.Options.Options.Create(new ServerOptions { HostName = "mx.example.org", LoopbackIsSecure = true }),
            delivery,
            authenticator,
            Disk,
            Time,
            NullLoggerFactory.Instance);
        var listener = new ListenerInfo(options.Protocol.ToString().ToLowerInvariant(), options.Protocol, options.ImplicitTls, new IPEndPoint(IPAddress.Loopback, 25));
        ServerPipe = new DuplexPipe(_toServer.Reader, _toClient.Writer);
        Connection = new MailConnection(ServerPipe, listener, new IPEndPoint(IPAddress.Parse(options.Remote), 40000), options.Tls, loopbackIsSecure: true)
        {
            OverConnectionLimit = options.OverConnectionLimit,
        };
        Handler = new SmtpProtocolHandler(context);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 18, 0, 0, TimeSpan.Zero));

    public IMailStore Store { get; }

    public SmtpOptions Options { get; }

    public CountingQueueSignal Signal { get; } = new();

    public FixedDiskSpace Disk { get; } = new(null);

    public MailConnection Connection { get; }

    public SmtpProtocolHandler Handler { get; }

    public Task Session { get; private set; } = Task.CompletedTask;

    private DuplexPipe ServerPipe { get; }

    /// <summary>Client side of the connection (for TLS tests).</summary>
    public IDuplexPipe ClientPipe => new DuplexPipe(_toClient.Reader, _toServer.Writer);

    public static SmtpHarness Start(IMailStore store, IAuthenticator authenticator, HarnessOptions? options = null)
    {
        var h = new SmtpHarness(store, authenticator, options ?? new HarnessOptions());
        h.Session = Task.Run(async () =>
        {
            try
            {
                await h.Handler.RunAsync(h.Connection, h._stop.Token);
            }
            finally
            {
                await h.Connection.CompleteAsync();
                await h._toClient.Writer.CompleteAsync();
            }
        });
        return h;
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _toServer.Writer.WriteAsync(bytes);
    }

    public void CloseClient() => _toServer.Writer.Complete();

    /// <summary>Fires the session's token, as the host does when stopping.</summary>
    public void StopServer() => _stop.Cancel();

    /// <summary>Reads one complete reply (all its lines). Null when the server closed the connection.</summary>
    public async Task<string?> ReadReplyAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var reply = new StringBuilder();
        var reader = _toClient.Reader;
        while (true)
        {
            var read = await reader.ReadAsync(timeout.Token);
            var buffer = read.Buffer;
            while (true)
            {
                var position = buffer.PositionOf((byte)'\n');
                if (position is null)
                {
                    break;
                }

                var line = Encoding.UTF8.GetString(buffer.Slice(0, position.Value).ToArray());
                buffer = buffer.Slice(buffer.GetPosition(1, position.Value));
                reply.Append(line).Append('\n');
                if (line.Length >= 4 && line[3] == ' ')
                {
                    reader.AdvanceTo(buffer.Start);
                    return reply.ToString().TrimEnd('\n').Replace("\r", "", StringComparison.Ordinal);
                }
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                return reply.Length == 0 ? null : reply.ToString();
            }
        }
    }

    /// <summary>Sends a command line and returns the reply.</summary>
    public async Task<string?> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>Sends, and asserts the reply starts with <paramref name="expected"/>.</summary>
    public async Task<string> ExpectAsync(string line, string expected)
    {
        var reply = await CommandAsync(line);
        Assert.NotNull(reply);
        Assert.StartsWith(expected, reply, StringComparison.Ordinal);
        return reply;
    }

    /// <summary>Sends bytes as they are (no CRLF added) and checks the reply.</summary>
    public async Task<string> ExpectRawAsync(string data, string expected)
    {
        await SendAsync(data);
        var reply = await ReadReplyAsync();
        Assert.NotNull(reply);
        Assert.StartsWith(expected, reply, StringComparison.Ordinal);
        return reply;
    }

    /// <summary>Reads the greeting and sends EHLO.</summary>
    public async Task<string> HelloAsync(string name = "client.example.net")
    {
        Assert.StartsWith("220 mx.example.org", await ReadReplyAsync(), StringComparison.Ordinal);
        return await ExpectAsync("EHLO " + name, "250-mx.example.org");
    }

    /// <summary>Greeting, EHLO, then a MAIL FROM and one RCPT TO that must both be accepted: the
    /// opening every transaction transcript shares.</summary>
    public async Task EnvelopeAsync(string from, string to)
    {
        await HelloAsync();
        await ExpectAsync("MAIL FROM:<" + from + ">", "250 2.1.0");
        await ExpectAsync("RCPT TO:<" + to + ">", "250 2.1.5");
    }

    /// <summary>True when the server closed the connection (after any pending bytes).</summary>
    public async Task<bool> ClosedAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var read = await _toClient.Reader.ReadAsync(timeout.Token);
            _toClient.Reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return true;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        await _stop.CancelAsync();
        try
        {
            await Session.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
        }

        _stop.Dispose();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}