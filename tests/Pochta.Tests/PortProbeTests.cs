using System.Net;
using System.Net.Sockets;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

using Pochta.Hosting;
using Pochta.Server;

namespace Pochta.Tests;

public sealed class PortProbeTests
{
    [Fact]
    public async Task A_port_held_by_another_kestrel_server_is_reported()
    {
        // Kestrel (as a second pochta would) holds the port: the probe must see it, even
        // though it sets SO_REUSEADDR itself.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var other = builder.Build();
        await other.StartAsync();
        var port = new Uri(other.Urls.First()).Port;

        var error = Assert.Throws<StartupException>(() => StartupChecks.CheckPorts([("imap", new IPEndPoint(IPAddress.Loopback, port))]));

        Assert.Contains($"port {port} (listener imap, 127.0.0.1:{port}) is already in use", error.Message, StringComparison.Ordinal);
        await other.StopAsync();
    }

    [Fact]
    public void A_free_port_passes_and_stays_free()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        StartupChecks.CheckPorts([("smtp", new IPEndPoint(IPAddress.Loopback, port))]);

        using var again = new TcpListener(IPAddress.Loopback, port);
        again.Start();
    }

    [Theory]
    [InlineData(SocketError.AddressAlreadyInUse, "already in use")]
    [InlineData(SocketError.AccessDenied, "CAP_NET_BIND_SERVICE")]
    [InlineData(SocketError.AddressNotAvailable, "not on this machine")]
    public void Each_bind_failure_names_the_port_and_the_fix(SocketError code, string fix)
    {
        var text = StartupChecks.Describe("smtp", new IPEndPoint(IPAddress.IPv6Any, 25), code);
        Assert.StartsWith("port 25 (listener smtp, *:25)", text, StringComparison.Ordinal);
        Assert.Contains(fix, text, StringComparison.Ordinal);
        Assert.Contains("Listeners:smtp:Endpoint", text, StringComparison.Ordinal);
    }
}