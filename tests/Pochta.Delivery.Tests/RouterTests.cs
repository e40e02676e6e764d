using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using Pochta.Delivery.Tests.Fakes;

namespace Pochta.Delivery.Tests;

public class RouterTests
{
    [Fact]
    public void Mx_hosts_are_ordered_by_preference()
    {
        var result = MxOrdering.FromRecords([new("c.test.", 30), new("a.test.", 10), new("b.test.", 20)], new Random(1));
        Assert.Equal(MxLookupStatus.Found, result.Status);
        Assert.Equal(["a.test", "b.test", "c.test"], result.Hosts.Select(h => h.Name));
    }

    [Fact]
    public void Equal_preferences_are_shuffled_but_stay_within_their_rank()
    {
        var seen = new HashSet<string>();
        for (var seed = 0; seed < 50; seed++)
        {
            var hosts = MxOrdering.FromRecords(
                [new("x1.test", 10), new("x2.test", 10), new("x3.test", 10), new("backup.test", 20), new("first.test", 5)],
                new Random(seed)).Hosts;
            Assert.Equal("first.test", hosts[0].Name);
            Assert.Equal("backup.test", hosts[4].Name);
            Assert.Equal(["x1.test", "x2.test", "x3.test"], hosts.Skip(1).Take(3).Select(h => h.Name).Order());
            seen.Add(string.Join(",", hosts.Skip(1).Take(3).Select(h => h.Name)));
        }

        Assert.True(seen.Count > 1, "equal-preference hosts were never reordered");
    }

    [Fact]
    public void Null_mx_is_recognised_rfc7505()
    {
        Assert.Equal(MxLookupStatus.NullMx, MxOrdering.FromRecords([new(".", 0)], Random.Shared).Status);

        // A "." among real hosts is not a null MX: it is ignored.
        var mixed = MxOrdering.FromRecords([new(".", 0), new("mx.test", 10)], Random.Shared);
        Assert.Equal(MxLookupStatus.Found, mixed.Status);
        Assert.Equal(["mx.test"], mixed.Hosts.Select(h => h.Name));
    }

    [Fact]
    public async Task Mx_destination_uses_the_mx_port_and_every_host_opportunistically()
    {
        var dns = new FakeDns();
        dns.Mx["remote.test"] = new MxLookupResult(MxLookupStatus.Found, [new("mx1.remote.test", 10), new("mx2.remote.test", 20)], null);
        var router = new OutboundRouter(new OutboundOptions { MxPort = 2525 }, dns);

        var destination = router.GetDestination("Bob@Remote.TEST");
        Assert.Equal(RouteKind.Mx, destination.Kind);
        Assert.Equal("remote.test", destination.Domain);
        Assert.Equal("mx:remote.test", destination.Key);

        var route = await router.ResolveAsync(destination, CancellationToken.None);
        Assert.Equal(MxLookupStatus.Found, route.Status);
        Assert.Equal([new RouteHost("mx1.remote.test", 2525, TlsPolicy.Opportunistic), new RouteHost("mx2.remote.test", 2525, TlsPolicy.Opportunistic)], route.Hosts);
    }

    [Fact]
    public async Task Null_mx_and_missing_domain_come_back_from_resolution()
    {
        var dns = new FakeDns();
        dns.Mx["nomail.test"] = MxOrdering.FromRecords([new(".", 0)], Random.Shared);
        var router = new OutboundRouter(new OutboundOptions(), dns);
        Assert.Equal(MxLookupStatus.NullMx, (await router.ResolveAsync(router.GetDestination("a@nomail.test"), CancellationToken.None)).Status);
        Assert.Equal(MxLookupStatus.NoSuchDomain, (await router.ResolveAsync(router.GetDestination("a@nowhere.test"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Transport_map_routes_a_domain_to_a_fixed_host()
    {
        var options = new OutboundOptions();
        options.TransportMap["split.test"] = "10.0.0.5:2526";
        options.TransportMap["other.test"] = "relay.internal";
        var dns = new FakeDns();
        var router = new OutboundRouter(options, dns);

        var d = router.GetDestination("x@SPLIT.test");
        Assert.Equal(RouteKind.TransportMap, d.Kind);
        Assert.Equal(("10.0.0.5", 2526), (d.Host, d.Port));
        var route = await router.ResolveAsync(d, CancellationToken.None);
        Assert.Equal([new RouteHost("10.0.0.5", 2526, TlsPolicy.Opportunistic)], route.Hosts);
        Assert.Empty(dns.Queries); // no MX lookup for a mapped domain

        Assert.Equal(("relay.internal", 25), (router.GetDestination("y@other.test").Host, router.GetDestination("y@other.test").Port));
        Assert.Equal(RouteKind.Mx, router.GetDestination("z@unmapped.test").Kind);
    }

    [Theory]
    [InlineData(SmartHostTls.StartTls, TlsPolicy.RequiredStartTls)]
    [InlineData(SmartHostTls.Implicit, TlsPolicy.Implicit)]
    [InlineData(SmartHostTls.None, TlsPolicy.None)]
    public async Task Smart_host_takes_every_unmapped_domain(SmartHostTls tls, TlsPolicy expected)
    {
        var options = new OutboundOptions { SmartHost = new SmartHostOptions { Host = "relay.isp.test", Port = 587, Tls = tls } };
        var router = new OutboundRouter(options, new FakeDns());
        var a = router.GetDestination("a@one.test");
        var b = router.GetDestination("b@two.test");
        Assert.Equal(RouteKind.SmartHost, a.Kind);
        Assert.Equal(a.Key, b.Key); // one relay: recipients of every domain share its connections
        var route = await router.ResolveAsync(a, CancellationToken.None);
        Assert.Equal([new RouteHost("relay.isp.test", 587, expected)], route.Hosts);
    }

    [Fact]
    public void Transport_map_wins_over_the_smart_host()
    {
        // Postfix precedence (transport_maps before relayhost): split setups keep their internal route.
        var options = new OutboundOptions { SmartHost = new SmartHostOptions { Host = "relay.isp.test" } };
        options.TransportMap["internal.test"] = "10.0.0.9:25";
        var router = new OutboundRouter(options, new FakeDns());
        Assert.Equal(RouteKind.TransportMap, router.GetDestination("a@internal.test").Kind);
        Assert.Equal(RouteKind.SmartHost, router.GetDestination("a@external.test").Kind);
    }

    [Fact]
    public async Task Address_literal_is_delivered_to_the_address_without_mx_lookup()
    {
        var dns = new FakeDns();
        var router = new OutboundRouter(new OutboundOptions(), dns);
        var route = await router.ResolveAsync(router.GetDestination("a@[192.0.2.7]"), CancellationToken.None);
        Assert.Equal(MxLookupStatus.Found, route.Status);
        Assert.Equal("192.0.2.7", route.Hosts.Single().Name);
        var v6 = await router.ResolveAsync(router.GetDestination("a@[IPv6:2001:db8::1]"), CancellationToken.None);
        Assert.Equal("2001:db8::1", v6.Hosts.Single().Name);
        Assert.DoesNotContain(dns.Queries, q => q.StartsWith("MX", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("host", "host", 25)]
    [InlineData("host:2525", "host", 2525)]
    [InlineData("[::1]:2525", "::1", 2525)]
    [InlineData("[::1]", "::1", 25)]
    [InlineData("::1", "::1", 25)]
    [InlineData(" 127.0.0.1:10025 ", "127.0.0.1", 10025)]
    public void Host_port_parses(string text, string host, int port) =>
        Assert.Equal((host, port), OutboundRouter.ParseHostPort(text, 25));

    [Theory]
    [InlineData("")]
    [InlineData("host:")]
    [InlineData("host:99999")]
    [InlineData("host:x")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData(":25")]
    public void Bad_host_port_values_are_refused(string text)
    {
        Assert.False(OutboundRouter.TryParseHostPort(text, 25, out _, out _));
        Assert.Throws<FormatException>(() => OutboundRouter.ParseHostPort(text, 25));
    }

    [Fact]
    public void A_bad_transport_map_value_stops_the_host_at_start_not_the_queue_later()
    {
        // Regression: a value ParseHostPort could not read threw inside every queue scan, which
        // stalled delivery for every domain; it is now refused by options validation.
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Outbound:TransportMap:split.test"] = "[::1" })
            .Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(config);
        services.AddPochtaOutbound();
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<OutboundOptions>>();
        var ex = Assert.Throws<OptionsValidationException>(() => options.Value);
        Assert.Contains("TransportMap", ex.Message, StringComparison.Ordinal);
    }
}