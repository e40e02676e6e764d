using System.CommandLine;
using System.Net;

using Microsoft.Extensions.Configuration;

using Pochta.Core;
using Pochta.Delivery.Outbound;
using Pochta.Hosting;

using Spectre.Console;

namespace Pochta.Cli;

/// <summary><c>dns show</c> and <c>dkim rotate</c>: what a local domain publishes, and its
/// signing keys. Both need the domain to be local and <c>Outbound:DkimDirectory</c> set.</summary>
internal static class DnsCommands
{
    public static Command CreateDns(CommandContext context)
    {
        var domainArgument = new Argument<string>("DOMAIN") { Description = "A local domain" };
        var addresses = new Option<string[]>("--address")
        {
            Description = "A public address of the mail host (A/AAAA records); repeatable",
        };

        var show = new Command("show", "Every record to publish: MX, A/AAAA, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV") { domainArgument, addresses };
        show.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var domain = await RequireLocalDomainAsync(admin, result.GetValue(domainArgument)!, ct);
            var parsed = new List<IPAddress>();
            foreach (var text in result.GetValue(addresses) ?? [])
            {
                parsed.Add(IPAddress.TryParse(text, out var ip) ? ip : throw new CliRefusedException("--address expects an IPv4 or IPv6 address"));
            }

            var root = admin.Configuration.Root;
            var hostName = root[ServerOptions.Section + ":" + nameof(ServerOptions.HostName)] ?? "localhost";
            var keys = await AdminOperations.EnsureDkimKeysAsync(root, domain, ct);
            var ports = ListenerPorts(root);
            var records = DnsRecords.Build(domain, hostName, keys, new DnsRecordOptions
            {
                Addresses = parsed,
                SubmissionPort = ports.GetValueOrDefault(MailProtocol.Submission),
                SubmissionsPort = ports.GetValueOrDefault(MailProtocol.Submissions),
                ImapPort = ports.GetValueOrDefault(MailProtocol.Imap),
                ImapsPort = ports.GetValueOrDefault(MailProtocol.Imaps),
                Pop3Port = ports.GetValueOrDefault(MailProtocol.Pop3),
                Pop3sPort = ports.GetValueOrDefault(MailProtocol.Pop3s),
            });

            if (context.Json(result))
            {
                context.Console.WriteJson(new { domain, records, mtaStsPolicy = DnsRecords.MtaStsPolicy(hostName) });
                return ExitCodes.Success;
            }

            context.Console.Line(DnsRecords.ToZoneFile(records));
            context.Console.Line($"; MTA-STS policy, served as https://mta-sts.{domain}/.well-known/mta-sts.txt:");
            using var policy = new StringReader(DnsRecords.MtaStsPolicy(hostName));
            while (policy.ReadLine() is { } line)
            {
                context.Console.Line("; " + line);
            }

            return ExitCodes.Success;
        }, ct));

        return new Command("dns", "DNS records for a local domain") { show };
    }

    public static Command CreateDkim(CommandContext context)
    {
        var domainArgument = new Argument<string>("DOMAIN") { Description = "A local domain" };
        var rotate = new Command("rotate", "New RSA-2048 and Ed25519 signing keys; publish their records before the old ones are removed") { domainArgument };
        rotate.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var domain = await RequireLocalDomainAsync(admin, result.GetValue(domainArgument)!, ct);
            var directory = admin.Configuration.Root[OutboundOptions.Section + ":" + nameof(OutboundOptions.DkimDirectory)];
            if (string.IsNullOrEmpty(directory))
            {
                throw new CliRefusedException("DKIM signing is off (Outbound:DkimDirectory is empty)");
            }

            var keys = await new DkimKeyStore(directory, TimeProvider.System).RotateAsync(domain, ct);
            if (context.Json(result))
            {
                context.Console.WriteJson(keys.Select(k => new { name = k.DnsName, selector = k.Selector, algorithm = k.Algorithm.ToString(), value = k.DnsRecordValue }));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("Name", "Algorithm", "TXT value");
            foreach (var k in keys)
            {
                table.AddRow(Markup.Escape(k.DnsName), k.Algorithm.ToString(), Markup.Escape(k.DnsRecordValue));
            }

            context.Console.Ansi.Write(table);
            return ExitCodes.Success;
        }, ct));

        return new Command("dkim", "DKIM signing keys") { rotate };
    }

    private static async Task<string> RequireLocalDomainAsync(AdminContext admin, string name, CancellationToken cancellationToken)
    {
        var domain = await admin.Store.Directory.FindDomainAsync(name.Trim().ToLowerInvariant(), cancellationToken);
        return domain?.Name ?? throw new CliRefusedException("domain not found");
    }

    /// <summary>The port of the first enabled listener of each protocol; a protocol without one
    /// is published as "not offered".</summary>
    private static Dictionary<MailProtocol, int?> ListenerPorts(IConfiguration configuration)
    {
        var listeners = configuration.GetSection(ListenerSettings.Section).Get<Dictionary<string, ListenerSettings>>() ?? [];
        var ports = new Dictionary<MailProtocol, int?>
        {
            [MailProtocol.Submission] = null,
            [MailProtocol.Submissions] = null,
            [MailProtocol.Imap] = null,
            [MailProtocol.Imaps] = null,
            [MailProtocol.Pop3] = null,
            [MailProtocol.Pop3s] = null,
        };
        foreach (var (_, listener) in listeners.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            if (listener.Enabled && ports.TryGetValue(listener.Protocol, out var existing) && existing is null &&
                ListenerSettings.TryParseEndpoint(listener.Endpoint, out var endPoint))
            {
                ports[listener.Protocol] = endPoint.Port;
            }
        }

        return ports;
    }
}