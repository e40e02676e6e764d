using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Testing;

namespace Pochta.Tests;

/// <summary>Kestrel listeners dispatching to a protocol handler, through the test fixture.</summary>
public sealed class ListenerTests
{
    /// <summary>A minimal protocol: greets with what the session knows, echoes one line, and
    /// on shutdown says goodbye (as a real session finishes its current command).</summary>
    private sealed class ProbeHandler : IMailProtocolHandler
    {
        public IReadOnlyList<MailProtocol> Protocols { get; } = [MailProtocol.Smtp, MailProtocol.Submissions];

        public async Task RunAsync(MailConnection connection, CancellationToken cancellationToken)
        {
            var greeting = $"hello {connection.Listener.Name} {connection.Listener.EndPoint.Port} tls={connection.IsTls} busy={connection.OverConnectionLimit}\r\n";
            await connection.Output.WriteAsync(Encoding.ASCII.GetBytes(greeting), cancellationToken);
            if (connection.OverConnectionLimit)
            {
                return;
            }

            try
            {
                while (true)
                {
                    var read = await connection.Input.ReadAsync(cancellationToken);
                    var buffer = read.Buffer;
                    if (buffer.PositionOf((byte)'\n') is { } end)
                    {
                        var line = buffer.Slice(0, buffer.GetPosition(1, end));
                        await connection.Output.WriteAsync(("echo " + Encoding.ASCII.GetString(line)).Select(c => (byte)c).ToArray(), cancellationToken);
                        connection.Input.AdvanceTo(line.End);
                        continue;
                    }

                    if (read.IsCompleted)
                    {
                        return;
                    }

                    connection.Input.AdvanceTo(buffer.Start, buffer.End);
                }
            }
            catch (OperationCanceledException)
            {
                await connection.Output.WriteAsync("bye\r\n"u8.ToArray(), CancellationToken.None);
            }
        }
    }

    private static Task<PochtaTestServer> StartAsync(params (string Key, string Value)[] configuration)
    {
        var options = new PochtaTestServerOptions
        {
            ConfigureServices = services =>
            {
                // Only the probe: every other protocol is left without a handler.
                services.RemoveAll<IMailProtocolHandler>();
                services.AddSingleton<IMailProtocolHandler, ProbeHandler>();
            },
        };
        foreach (var (key, value) in configuration)
        {
            options.Configuration[key] = value;
        }

        return PochtaTestServer.StartAsync(options);
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await stream.ReadAsync(one, timeout.Token) == 1)
        {
            bytes.Add(one[0]);
            if (one[0] == '\n')
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r', '\n');
    }

    [Fact]
    public async Task Sessions_see_their_listener_with_the_bound_port()
    {
        await using var server = await StartAsync();
        var port = server.Port(MailProtocol.Smtp);
        Assert.NotEqual(0, port);

        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        Assert.Equal($"hello smtp {port} tls=False busy=False", await ReadLineAsync(stream));
        await stream.WriteAsync("NOOP\r\n"u8.ToArray());
        Assert.Equal("echo NOOP", await ReadLineAsync(stream));
    }

    [Fact]
    public async Task Listeners_without_a_handler_are_not_started()
    {
        await using var server = await StartAsync();
        Assert.Equal(
            ["http", "smtp", "submissions"],
            server.Listeners.Select(l => l.Name).Order(StringComparer.Ordinal));
        var error = Assert.Throws<InvalidOperationException>(() => server.Port(MailProtocol.Imap));
        Assert.Contains("Imap", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Implicit_tls_listener_handshakes_with_the_generated_certificate()
    {
        await using var server = await StartAsync();
        var expected = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "tls", "cert.pem")));

        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.Port(MailProtocol.Submissions));
        var pinned = false;
        await using var tls = new SslStream(client.GetStream(), false, (_, certificate, _, _) =>
        {
            // The certificate is self-signed: pinned to the one in DATA/tls.
            pinned = certificate is not null && X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()).Thumbprint == expected.Thumbprint;
            return pinned;
        });
        await tls.AuthenticateAsClientAsync("localhost");

        Assert.True(pinned);
        Assert.Contains("localhost", expected.Subject, StringComparison.Ordinal);
        Assert.Equal($"hello submissions {server.Port(MailProtocol.Submissions)} tls=True busy=False", await ReadLineAsync(tls));
    }

    [Fact]
    public async Task Connections_over_the_per_ip_limit_are_flagged_to_the_protocol()
    {
        await using var server = await StartAsync(("Server:MaxConnectionsPerIp", "1"));
        var port = server.Port(MailProtocol.Smtp);

        using var first = new TcpClient();
        await first.ConnectAsync("127.0.0.1", port);
        Assert.EndsWith("busy=False", await ReadLineAsync(first.GetStream()), StringComparison.Ordinal);

        using var second = new TcpClient();
        await second.ConnectAsync("127.0.0.1", port);
        Assert.EndsWith("busy=True", await ReadLineAsync(second.GetStream()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_lets_the_session_say_goodbye()
    {
        var server = await StartAsync();
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.Port(MailProtocol.Smtp));
        var stream = client.GetStream();
        await ReadLineAsync(stream);

        var stopping = server.DisposeAsync().AsTask();

        Assert.Equal("bye", await ReadLineAsync(stream));
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(Directory.Exists(server.DataDirectory));
    }
}