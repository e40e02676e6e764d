using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

using Pochta.Core;

namespace Pochta.Hosting;

/// <summary>One entry of the configuration section <c>Listeners</c> (keyed by listener name).</summary>
public sealed class ListenerSettings
{
    public const string Section = "Listeners";

    public MailProtocol Protocol { get; set; }

    /// <summary><c>*:25</c> (every address, IPv4 and IPv6), <c>127.0.0.1:2525</c>, <c>[::1]:143</c>.</summary>
    public string Endpoint { get; set; } = "";

    public bool Enabled { get; set; } = true;

    /// <summary>Implicit TLS follows from the protocol (RFC 8314: 465, 993, 995).</summary>
    public static bool IsImplicitTls(MailProtocol protocol) =>
        protocol is MailProtocol.Submissions or MailProtocol.Imaps or MailProtocol.Pop3s;

    /// <summary>The standard listeners of a production server.</summary>
    public static Dictionary<string, ListenerSettings> Defaults() => Build("*", new()
    {
        ["smtp"] = (MailProtocol.Smtp, 25),
        ["submission"] = (MailProtocol.Submission, 587),
        ["submissions"] = (MailProtocol.Submissions, 465),
        ["imap"] = (MailProtocol.Imap, 143),
        ["imaps"] = (MailProtocol.Imaps, 993),
        ["pop3"] = (MailProtocol.Pop3, 110),
        ["pop3s"] = (MailProtocol.Pop3s, 995),
        ["http"] = (MailProtocol.Http, 80),
    });

    /// <summary><c>serve --dev</c>: loopback only, unprivileged fixed ports.</summary>
    public static Dictionary<string, ListenerSettings> Development() => Build("127.0.0.1", new()
    {
        ["smtp"] = (MailProtocol.Smtp, 2525),
        ["submission"] = (MailProtocol.Submission, 2587),
        ["submissions"] = (MailProtocol.Submissions, 2465),
        ["imap"] = (MailProtocol.Imap, 1143),
        ["imaps"] = (MailProtocol.Imaps, 1993),
        ["pop3"] = (MailProtocol.Pop3, 1110),
        ["pop3s"] = (MailProtocol.Pop3s, 1995),
        ["http"] = (MailProtocol.Http, 8080),
    });

    private static Dictionary<string, ListenerSettings> Build(string host, Dictionary<string, (MailProtocol Protocol, int Port)> table) =>
        table.ToDictionary(
            kv => kv.Key,
            kv => new ListenerSettings { Protocol = kv.Value.Protocol, Endpoint = host + ":" + kv.Value.Port.ToString(CultureInfo.InvariantCulture) },
            StringComparer.OrdinalIgnoreCase);

    /// <summary>Parses an endpoint; <c>*</c> yields <see cref="IPAddress.IPv6Any"/> (dual-stack).</summary>
    public static bool TryParseEndpoint(string text, [NotNullWhen(true)] out IPEndPoint? endPoint)
    {
        endPoint = null;
        if (text.StartsWith("*:", StringComparison.Ordinal))
        {
            if (int.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= IPEndPoint.MaxPort)
            {
                endPoint = new IPEndPoint(IPAddress.IPv6Any, port);
                return true;
            }

            return false;
        }

        return IPEndPoint.TryParse(text, out endPoint) && text.Contains(':', StringComparison.Ordinal);
    }
}