using System.Globalization;

using Pochta.Client.Cli;
using Pochta.Client.Config;

namespace Pochta.Client.Net;

internal enum MailProtocol
{
    Imap,
    Smtp,
    Pop3,
}

/// <summary>Parses <c>host[:port]</c> (IPv6 as <c>[addr]:port</c>) with the security mode, choosing
/// the standard port for the mode and the mode for a standard port (RFC 8314 §7).</summary>
internal static class EndpointParser
{
    public static ServerEndpoint Parse(string text, MailProtocol protocol, TransportSecurity? security)
    {
        ArgumentNullException.ThrowIfNull(text);
        string host;
        int? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw ClientException.Usage($"bad server address {text}");
            }

            host = text[1..close];
            if (close + 1 < text.Length)
            {
                port = ParsePort(text, text[(close + 1)..]);
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            host = colon < 0 ? text : text[..colon];
            if (colon >= 0)
            {
                port = ParsePort(text, text[colon..]);
            }
        }

        if (host.Length == 0)
        {
            throw ClientException.Usage($"bad server address {text}");
        }

        var mode = security ?? (port is { } p ? DefaultSecurity(protocol, p) : TransportSecurity.Tls);
        return new ServerEndpoint(host, port ?? DefaultPort(protocol, mode), mode);
    }

    private static int ParsePort(string text, string colonPort)
    {
        if (colonPort.Length < 2 || colonPort[0] != ':'
            || !int.TryParse(colonPort.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            throw ClientException.Usage($"bad port in {text}");
        }

        return port;
    }

    private static TransportSecurity DefaultSecurity(MailProtocol protocol, int port) => (protocol, port) switch
    {
        (MailProtocol.Imap, 993) or (MailProtocol.Pop3, 995) or (MailProtocol.Smtp, 465) => TransportSecurity.Tls,
        _ => TransportSecurity.StartTls,
    };

    private static int DefaultPort(MailProtocol protocol, TransportSecurity security) => (protocol, security) switch
    {
        (MailProtocol.Imap, TransportSecurity.Tls) => 993,
        (MailProtocol.Imap, _) => 143,
        (MailProtocol.Pop3, TransportSecurity.Tls) => 995,
        (MailProtocol.Pop3, _) => 110,
        (MailProtocol.Smtp, TransportSecurity.Tls) => 465,
        _ => 587,
    };
}