using System.Globalization;
using System.Xml;
using System.Xml.Linq;

using DnsClient;
using DnsClient.Protocol;

using Pochta.Client.Config;

namespace Pochta.Client.Net;

/// <summary>Servers found for an address.</summary>
internal sealed record DiscoveredSettings(ServerEndpoint? Imap, ServerEndpoint? Smtp, ServerEndpoint? Pop3, string? Login, string Source);

/// <summary>One SRV answer (RFC 2782).</summary>
internal sealed record SrvTarget(string Host, int Port, int Priority, int Weight);

/// <summary>
/// Finds an account's servers: Mozilla autoconfig (HTTPS only — a plain-HTTP answer could send the
/// password anywhere), then RFC 6186 SRV records with RFC 8314 implicit TLS preferred.
/// </summary>
internal sealed class Discovery(Func<Uri, CancellationToken, Task<string?>> fetch, Func<string, CancellationToken, Task<IReadOnlyList<SrvTarget>>> srv)
{
    public static Discovery CreateDefault()
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var dns = new LookupClient(new LookupClientOptions { Timeout = TimeSpan.FromSeconds(5), UseCache = true });
        return new Discovery(
            async (uri, cancellationToken) =>
            {
                try
                {
                    using var response = await http.GetAsync(uri, cancellationToken);
                    return response.IsSuccessStatusCode && response.RequestMessage?.RequestUri?.Scheme == Uri.UriSchemeHttps
                        ? await response.Content.ReadAsStringAsync(cancellationToken)
                        : null;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return null;
                }
            },
            async (name, cancellationToken) =>
            {
                try
                {
                    var result = await dns.QueryAsync(name, QueryType.SRV, QueryClass.IN, cancellationToken);
                    return result.Answers.OfType<SrvRecord>()
                        .Select(r => new SrvTarget(r.Target.Value.TrimEnd('.'), r.Port, r.Priority, r.Weight))
                        .ToList();
                }
                catch (DnsResponseException)
                {
                    return [];
                }
            });
    }

    public async Task<DiscoveredSettings?> DiscoverAsync(string address, CancellationToken cancellationToken)
    {
        var at = address.LastIndexOf('@');
        var domain = address[(at + 1)..].ToLowerInvariant();
        var escaped = Uri.EscapeDataString(address);
        foreach (var uri in new[]
        {
            new Uri($"https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={escaped}"),
            new Uri($"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={escaped}"),
        })
        {
            if (await fetch(uri, cancellationToken) is { } xml && ParseAutoconfig(xml, address) is { } found)
            {
                return found with { Source = uri.GetLeftPart(UriPartial.Path) };
            }
        }

        var imap = await SrvAsync($"_imaps._tcp.{domain}", TransportSecurity.Tls, cancellationToken)
            ?? await SrvAsync($"_imap._tcp.{domain}", TransportSecurity.StartTls, cancellationToken);
        var smtp = await SrvAsync($"_submissions._tcp.{domain}", TransportSecurity.Tls, cancellationToken)
            ?? await SrvAsync($"_submission._tcp.{domain}", TransportSecurity.StartTls, cancellationToken);
        var pop3 = await SrvAsync($"_pop3s._tcp.{domain}", TransportSecurity.Tls, cancellationToken)
            ?? await SrvAsync($"_pop3._tcp.{domain}", TransportSecurity.StartTls, cancellationToken);
        return imap is null && smtp is null && pop3 is null ? null : new DiscoveredSettings(imap, smtp, pop3, null, "DNS SRV (RFC 6186)");
    }

    /// <summary>The lowest-priority SRV target (RFC 2782); "." means the service is not offered (RFC 6186 §3.4).</summary>
    private async Task<ServerEndpoint?> SrvAsync(string name, TransportSecurity security, CancellationToken cancellationToken)
    {
        var targets = await srv(name, cancellationToken);
        var best = targets.Where(t => t.Host.Length > 0 && t.Host != "." && t.Port > 0)
            .OrderBy(t => t.Priority).ThenByDescending(t => t.Weight).FirstOrDefault();
        return best is null ? null : new ServerEndpoint(best.Host, best.Port, security);
    }

    /// <summary>Parses Thunderbird's config-v1.1.xml: the first IMAP and POP3 incoming servers and
    /// the first SMTP outgoing server with TLS (socketType SSL or STARTTLS; "plain" is ignored).</summary>
    internal static DiscoveredSettings? ParseAutoconfig(string xml, string address)
    {
        XDocument document;
        try
        {
            document = XDocument.Parse(xml, LoadOptions.None);
        }
        catch (XmlException)
        {
            return null;
        }

        var provider = document.Root?.Element("emailProvider");
        if (provider is null)
        {
            return null;
        }

        string? login = null;
        ServerEndpoint? Pick(string element, string type)
        {
            foreach (var server in provider.Elements(element).Where(e => string.Equals((string?)e.Attribute("type"), type, StringComparison.OrdinalIgnoreCase)))
            {
                var host = (string?)server.Element("hostname");
                var portText = (string?)server.Element("port");
                var security = ((string?)server.Element("socketType"))?.ToUpperInvariant() switch
                {
                    "SSL" or "TLS" => TransportSecurity.Tls,
                    "STARTTLS" => TransportSecurity.StartTls,
                    _ => (TransportSecurity?)null,
                };
                if (string.IsNullOrWhiteSpace(host) || security is null
                    || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                {
                    continue;
                }

                login ??= Substitute((string?)server.Element("username"), address);
                return new ServerEndpoint(Substitute(host, address)!.Trim(), port, security.Value);
            }

            return null;
        }

        var imap = Pick("incomingServer", "imap");
        var pop3 = Pick("incomingServer", "pop3");
        var smtp = Pick("outgoingServer", "smtp");
        return imap is null && pop3 is null && smtp is null ? null : new DiscoveredSettings(imap, smtp, pop3, login == address ? null : login, "autoconfig");
    }

    private static string? Substitute(string? template, string address)
    {
        if (template is null)
        {
            return null;
        }

        var at = address.LastIndexOf('@');
        return template
            .Replace("%EMAILADDRESS%", address, StringComparison.Ordinal)
            .Replace("%EMAILLOCALPART%", address[..at], StringComparison.Ordinal)
            .Replace("%EMAILDOMAIN%", address[(at + 1)..], StringComparison.Ordinal);
    }
}