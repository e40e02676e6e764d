using System.Globalization;
using System.Net;
using System.Net.Sockets;

using DnsClient;
using DnsClient.Protocol;

namespace Pochta.Delivery.Outbound;

public enum MxLookupStatus
{
    /// <summary>Hosts found (explicit MX records, or the implicit MX of RFC 5321 §5.1).</summary>
    Found,

    /// <summary>RFC 7505 null MX: the domain accepts no mail.</summary>
    NullMx,

    /// <summary>The domain does not exist, or has neither MX nor address records.</summary>
    NoSuchDomain,

    /// <summary>DNS failed (timeout, SERVFAIL): try again later.</summary>
    TemporaryFailure,
}

public sealed record MxHost(string Name, int Preference);

/// <param name="Hosts">Ordered for delivery: lowest preference first, equal preferences shuffled.</param>
public sealed record MxLookupResult(MxLookupStatus Status, IReadOnlyList<MxHost> Hosts, string? Error);

/// <summary>The DNS questions outbound delivery asks.</summary>
public interface IOutboundDnsResolver
{
    Task<MxLookupResult> LookupMxAsync(string domain, CancellationToken cancellationToken);

    /// <summary>IPv4 then IPv6 addresses of a host; empty when it has none. Throws
    /// <see cref="DnsLookupException"/> on a temporary DNS failure.</summary>
    Task<IReadOnlyList<IPAddress>> LookupAddressesAsync(string host, CancellationToken cancellationToken);
}

public sealed class DnsLookupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>DnsClient-based resolver. Servers come from <see cref="OutboundOptions.DnsServers"/>
/// (tests point them at an in-process server on loopback) or the system configuration.</summary>
public sealed class DnsClientResolver : IOutboundDnsResolver
{
    private static readonly QueryType[] AddressQueries = [QueryType.A, QueryType.AAAA];

    private readonly LookupClient _client;

    public DnsClientResolver(OutboundOptions options)
    {
        var servers = (options.DnsServers ?? []).Select(ParseEndPoint).ToArray();
        var clientOptions = servers.Length > 0 ? new LookupClientOptions(servers) : new LookupClientOptions();
        clientOptions.Timeout = options.DnsTimeout;
        clientOptions.Retries = 1;
        clientOptions.ThrowDnsErrors = false;
        clientOptions.ContinueOnDnsError = false;
        clientOptions.UseCache = servers.Length == 0;
        _client = new LookupClient(clientOptions);
    }

    public static IPEndPoint ParseEndPoint(string text) =>
        IPEndPoint.TryParse(text, out var ep)
            ? (ep.Port == 0 ? new IPEndPoint(ep.Address, 53) : ep)
            : throw new FormatException("Not a DNS server address: " + text);

    public async Task<MxLookupResult> LookupMxAsync(string domain, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(domain, QueryType.MX, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException ex)
        {
            return new MxLookupResult(MxLookupStatus.TemporaryFailure, [], "DNS lookup of MX failed: " + ex.Code);
        }

        if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return new MxLookupResult(MxLookupStatus.NoSuchDomain, [], "Domain not found");
        }

        if (response.HasError)
        {
            return new MxLookupResult(MxLookupStatus.TemporaryFailure, [], "DNS lookup of MX failed: " + response.Header.ResponseCode);
        }

        var records = response.Answers.MxRecords().ToList();
        if (records.Count > 0)
        {
            return MxOrdering.FromRecords(records.Select(r => new MxHost(r.Exchange.Value, r.Preference)).ToList(), Random.Shared);
        }

        // RFC 5321 §5.1: no MX records — the domain itself is the implicit MX if it has an address.
        try
        {
            var addresses = await LookupAddressesAsync(domain, cancellationToken).ConfigureAwait(false);
            return addresses.Count > 0
                ? new MxLookupResult(MxLookupStatus.Found, [new MxHost(domain, 0)], null)
                : new MxLookupResult(MxLookupStatus.NoSuchDomain, [], "Domain has no MX and no address records");
        }
        catch (DnsLookupException ex)
        {
            return new MxLookupResult(MxLookupStatus.TemporaryFailure, [], ex.Message);
        }
    }

    public async Task<IReadOnlyList<IPAddress>> LookupAddressesAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }

        var result = new List<IPAddress>();
        foreach (var type in AddressQueries)
        {
            IDnsQueryResponse response;
            try
            {
                response = await _client.QueryAsync(host, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            }
            catch (DnsResponseException ex)
            {
                throw new DnsLookupException("DNS lookup of " + type + " failed: " + ex.Code, ex);
            }

            if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
            {
                return result;
            }

            if (response.HasError)
            {
                throw new DnsLookupException("DNS lookup of " + type + " failed: " + response.Header.ResponseCode);
            }

            foreach (var record in response.Answers)
            {
                switch (record)
                {
                    case ARecord a:
                        result.Add(a.Address);
                        break;
                    case AaaaRecord aaaa:
                        result.Add(aaaa.Address);
                        break;
                }
            }
        }

        return result;
    }
}

public static class MxOrdering
{
    /// <summary>Orders MX hosts for delivery (RFC 5321 §5.1): ascending preference, hosts of
    /// equal preference in random order. A single MX of "." is a null MX (RFC 7505 §3);
    /// a "." mixed with real hosts is ignored.</summary>
    public static MxLookupResult FromRecords(IReadOnlyList<MxHost> records, Random random)
    {
        static bool IsRoot(string name) => name is "." or "";

        if (records.Count > 0 && records.All(r => IsRoot(r.Name)))
        {
            return new MxLookupResult(MxLookupStatus.NullMx, [], "Domain does not accept mail (null MX)");
        }

        var hosts = records
            .Where(r => !IsRoot(r.Name))
            .Select(r => new MxHost(r.Name.TrimEnd('.'), r.Preference))
            .GroupBy(r => r.Preference)
            .OrderBy(g => g.Key)
            .SelectMany(g =>
            {
                var group = g.ToArray();
                random.Shuffle(group);
                return group;
            })
            .ToList();
        return new MxLookupResult(MxLookupStatus.Found, hosts, null);
    }

    internal static string Describe(IPAddress address, int port) =>
        (address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + address + "]" : address.ToString()) + ":" +
        port.ToString(CultureInfo.InvariantCulture);
}