using System.Globalization;

namespace Pochta.Delivery.Outbound;

public enum RouteKind
{
    Mx,
    TransportMap,
    SmartHost,
}

/// <summary>How to secure a connection to a route host.</summary>
public enum TlsPolicy
{
    /// <summary>RFC 7435 / RFC 3207: STARTTLS when offered; plaintext only when it is not offered.</summary>
    Opportunistic,

    /// <summary>STARTTLS required, certificate validated.</summary>
    RequiredStartTls,

    /// <summary>TLS from the first byte, certificate validated.</summary>
    Implicit,

    /// <summary>Plaintext (configured for a trusted relay).</summary>
    None,
}

/// <summary>Where a recipient's mail goes; recipients with equal <see cref="Key"/> share connections.</summary>
public sealed record Destination(string Key, RouteKind Kind, string Domain, string? Host, int Port);

public sealed record RouteHost(string Name, int Port, TlsPolicy Tls);

/// <param name="Hosts">In the order to try them.</param>
public sealed record RouteResolution(MxLookupStatus Status, IReadOnlyList<RouteHost> Hosts, string? Error);

/// <summary>Chooses the destination of a recipient: smart host, static transport map, or MX.</summary>
public sealed class OutboundRouter(OutboundOptions options, IOutboundDnsResolver dns)
{
    public Destination GetDestination(string recipient)
    {
        var at = recipient.LastIndexOf('@');
        var domain = (at >= 0 ? recipient[(at + 1)..] : recipient).ToLowerInvariant();

        // The transport map wins over the smart host (as Postfix's transport_maps over relayhost):
        // a split setup keeps its internal routes while everything else goes to the relay.
        if (options.TransportMap.TryGetValue(domain, out var target))
        {
            var (host, port) = ParseHostPort(target, 25);
            return new Destination("map:" + host + ":" + port.ToString(CultureInfo.InvariantCulture), RouteKind.TransportMap, domain, host, port);
        }

        if (options.SmartHost is { } relay)
        {
            return new Destination("relay:" + relay.Host + ":" + relay.Port.ToString(CultureInfo.InvariantCulture), RouteKind.SmartHost, domain, relay.Host, relay.Port);
        }

        return new Destination("mx:" + domain, RouteKind.Mx, domain, null, options.MxPort);
    }

    public async Task<RouteResolution> ResolveAsync(Destination destination, CancellationToken cancellationToken)
    {
        switch (destination.Kind)
        {
            case RouteKind.SmartHost:
                var relay = options.SmartHost!;
                var tls = relay.Tls switch
                {
                    SmartHostTls.Implicit => TlsPolicy.Implicit,
                    SmartHostTls.None => TlsPolicy.None,
                    _ => TlsPolicy.RequiredStartTls,
                };
                return new RouteResolution(MxLookupStatus.Found, [new RouteHost(relay.Host, relay.Port, tls)], null);
            case RouteKind.TransportMap:
                return new RouteResolution(MxLookupStatus.Found, [new RouteHost(destination.Host!, destination.Port, TlsPolicy.Opportunistic)], null);
            default:
                // RFC 5321 §5.1: an address literal is the host itself; no MX lookup.
                if (AddressLiteral(destination.Domain) is { } literal)
                {
                    return new RouteResolution(MxLookupStatus.Found, [new RouteHost(literal, destination.Port, TlsPolicy.Opportunistic)], null);
                }

                var mx = await dns.LookupMxAsync(destination.Domain, cancellationToken).ConfigureAwait(false);
                return new RouteResolution(
                    mx.Status,
                    mx.Hosts.Select(h => new RouteHost(h.Name, destination.Port, TlsPolicy.Opportunistic)).ToList(),
                    mx.Error);
        }
    }

    /// <summary>The IP address inside <c>[192.0.2.1]</c> or <c>[IPv6:2001:db8::1]</c> (RFC 5321 §4.1.3), else null.</summary>
    public static string? AddressLiteral(string domain)
    {
        if (domain.Length < 3 || domain[0] != '[' || domain[^1] != ']')
        {
            return null;
        }

        var inner = domain[1..^1];
        if (inner.StartsWith("ipv6:", StringComparison.OrdinalIgnoreCase))
        {
            inner = inner[5..];
        }

        return System.Net.IPAddress.TryParse(inner, out var address) ? address.ToString() : null;
    }

    /// <summary>Parses <c>host</c>, <c>host:port</c> or <c>[v6]:port</c>; throws FormatException
    /// on anything else (the options validation refuses such values at start).</summary>
    public static (string Host, int Port) ParseHostPort(string text, int defaultPort) =>
        TryParseHostPort(text, defaultPort, out var host, out var port)
            ? (host, port)
            : throw new FormatException("Not a host or host:port: " + text);

    public static bool TryParseHostPort(string? text, int defaultPort, out string host, out int port)
    {
        host = "";
        port = defaultPort;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 2)
            {
                return false;
            }

            host = text[1..close];
            if (close + 1 == text.Length)
            {
                return true;
            }

            if (text[close + 1] != ':')
            {
                return false;
            }

            portText = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                // No port, or a bare IPv6 address.
                host = text;
                return colon < 0 || System.Net.IPAddress.TryParse(text, out _);
            }

            host = text[..colon];
            portText = text[(colon + 1)..];
        }

        return host.Length > 0 &&
            int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
    }
}