using System.CommandLine;
using System.Net;

using Microsoft.Extensions.Configuration;

using Pochta.Core;
using Pochta.Delivery.Outbound;
using Pochta.Hosting;
using Pochta.Server;

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
                SubmissionPort = Port(ports, MailProtocol.Submission),
                SubmissionsPort = Port(ports, MailProtocol.Submissions),
                ImapPort = Port(ports, MailProtocol.Imap),
                ImapsPort = Port(ports, MailProtocol.Imaps),
                Pop3Port = Port(ports, MailProtocol.Pop3),
                Pop3sPort = Port(ports, MailProtocol.Pop3s),
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

    private static int? Port(Dictionary<MailProtocol, int> ports, MailProtocol protocol) =>
        ports.TryGetValue(protocol, out var port) ? port : null;

    private static async Task<string> RequireLocalDomainAsync(AdminContext admin, string name, CancellationToken cancellationToken)
    {
        var domain = await admin.Store.Directory.FindDomainAsync(name.Trim().ToLowerInvariant(), cancellationToken);
        return domain?.Name ?? throw new CliRefusedException("domain not found");
    }

    /// <summary>The port of the first enabled listener of each protocol (the server's own
    /// reading of <c>Listeners</c>); a protocol without one is published as "not offered".</summary>
    private static Dictionary<MailProtocol, int> ListenerPorts(IConfiguration configuration)
    {
        var ports = new Dictionary<MailProtocol, int>();
        foreach (var (_, settings, endPoint) in ServerHost.ReadListeners(configuration))
        {
            ports.TryAdd(settings.Protocol, endPoint.Port);
        }

        return ports;
    }
}