using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pochta.Delivery.Outbound;

/// <summary>One DNS record to publish. <see cref="Name"/> is absolute without the final dot.</summary>
/// <param name="Value">For TXT the unquoted text; for MX/SRV the target host name.</param>
/// <param name="Priority">MX preference or SRV priority.</param>
/// <param name="Weight">SRV weight.</param>
/// <param name="Port">SRV port.</param>
/// <param name="Comment">Why the record exists and what to change before publishing it.</param>
public sealed record DnsRecord(
    string Name,
    string Type,
    string Value,
    int? Priority = null,
    int? Weight = null,
    int? Port = null,
    string? Comment = null)
{
    /// <summary>The record as a zone file line (RFC 1035 §5.1): absolute names, TXT as quoted
    /// strings of at most 255 octets each (RFC 1035 §3.3.14; long DKIM keys need several).</summary>
    public string ToZoneLine(int ttl)
    {
        var sb = new StringBuilder();
        sb.Append(Name).Append(". ").Append(ttl.ToString(CultureInfo.InvariantCulture)).Append(" IN ").Append(Type).Append(' ');
        switch (Type)
        {
            case "MX":
                sb.Append(Priority.GetValueOrDefault().ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Absolute(Value));
                break;
            case "SRV":
                sb.Append(Priority.GetValueOrDefault().ToString(CultureInfo.InvariantCulture)).Append(' ')
                  .Append(Weight.GetValueOrDefault().ToString(CultureInfo.InvariantCulture)).Append(' ')
                  .Append(Port.GetValueOrDefault().ToString(CultureInfo.InvariantCulture)).Append(' ')
                  .Append(Absolute(Value));
                break;
            case "TXT":
                var chunks = DnsRecords.SplitTxt(Value);
                sb.Append(chunks.Count == 1 ? Quote(chunks[0]) : "( " + string.Join(" ", chunks.Select(Quote)) + " )");
                break;
            case "CNAME":
                sb.Append(Absolute(Value));
                break;
            default:
                sb.Append(Value);
                break;
        }

        return sb.ToString();
    }

    private static string Absolute(string host) => host == "." ? "." : host + ".";

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>What <see cref="DnsRecords.Build"/> publishes besides the mail records. A null
/// port means the service is not offered: its SRV record then says so with target "."
/// (RFC 6186 §4, RFC 2782).</summary>
public sealed class DnsRecordOptions
{
    /// <summary>Addresses of the mail host; A/AAAA records are listed for them.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; init; } = [];

    public int? SubmissionPort { get; init; } = 587;

    public int? SubmissionsPort { get; init; } = 465;

    public int? ImapPort { get; init; } = 143;

    public int? ImapsPort { get; init; } = 993;

    public int? Pop3Port { get; init; } = 110;

    public int? Pop3sPort { get; init; } = 995;

    /// <summary>Where DMARC aggregate and TLS reports go; default <c>postmaster@DOMAIN</c>.</summary>
    public string? ReportAddress { get; init; }

    /// <summary>The MTA-STS policy id (RFC 8461 §3.1: 1-32 letters and digits); it must change
    /// whenever the policy changes. Default: the current UTC time as yyyyMMddHHmmss.</summary>
    public string? MtaStsPolicyId { get; init; }

    /// <summary>Clock for the default policy id.</summary>
    public TimeProvider? Time { get; init; }

    public int Ttl { get; init; } = 3600;
}

/// <summary>The records a domain served by Pochta should publish (<c>pochta dns show DOMAIN</c>):
/// MX, SPF, DKIM, DMARC, MTA-STS and TLS-RPT (placeholders to review), and the SRV records that
/// let clients find submission, IMAP and POP3 (RFC 6186, with RFC 8314 implicit TLS preferred).</summary>
public static class DnsRecords
{
    /// <param name="domain">The mail domain.</param>
    /// <param name="hostName">The name of this server (its MX target, EHLO name and certificate name).</param>
    /// <param name="dkimKeys">The domain's DKIM keys to publish (usually the active ones).</param>
    public static IReadOnlyList<DnsRecord> Build(string domain, string hostName, IEnumerable<DkimKeyInfo> dkimKeys, DnsRecordOptions? options = null)
    {
        options ??= new DnsRecordOptions();
        domain = Normalize(domain, nameof(domain));
        hostName = Normalize(hostName, nameof(hostName));
        var report = options.ReportAddress ?? "postmaster@" + domain;
        var records = new List<DnsRecord>
        {
            // RFC 5321 §5.1: where mail for the domain goes.
            new(domain, "MX", hostName, Priority: 10, Comment: "Mail for " + domain + " is delivered to " + hostName),
        };

        foreach (var address in options.Addresses)
        {
            records.Add(new DnsRecord(hostName, address.AddressFamily == AddressFamily.InterNetworkV6 ? "AAAA" : "A", address.ToString(),
                Comment: "Address of the mail host; its reverse (PTR) record should name " + hostName));
        }

        // RFC 7208: only the domain's MX hosts send its mail; the host name gets its own record
        // for the HELO identity (RFC 7208 §2.3).
        records.Add(new DnsRecord(domain, "TXT", "v=spf1 mx -all", Comment: "SPF: only the MX hosts send mail for " + domain));
        if (hostName != domain)
        {
            records.Add(new DnsRecord(hostName, "TXT", "v=spf1 a -all", Comment: "SPF for the HELO name"));
        }

        foreach (var key in dkimKeys.OrderBy(k => k.Selector, StringComparer.Ordinal))
        {
            if (!string.Equals(key.Domain.TrimEnd('.'), domain, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException("DKIM key " + key.Selector + " belongs to " + key.Domain + ", not " + domain, nameof(dkimKeys));
            }

            records.Add(new DnsRecord(key.Selector + "._domainkey." + domain, "TXT", key.DnsRecordValue,
                Comment: "DKIM public key (RFC 6376 §3.6.1" + (key.Algorithm == MimeKit.Cryptography.DkimSignatureAlgorithm.Ed25519Sha256 ? ", RFC 8463" : "") + ")"));
        }

        // RFC 7489 §6.3: start with quarantine and relaxed alignment; reports to the postmaster.
        records.Add(new DnsRecord("_dmarc." + domain, "TXT", "v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:" + report,
            Comment: "DMARC policy; review p= (none/quarantine/reject) before publishing"));

        // RFC 8461 §3.1: the TXT record announces a policy served over HTTPS.
        var policyId = options.MtaStsPolicyId ?? (options.Time ?? TimeProvider.System).GetUtcNow().ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        if (policyId.Length is 0 or > 32 || !policyId.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException("An MTA-STS policy id is 1-32 letters and digits (RFC 8461 §3.1).", nameof(options));
        }

        records.Add(new DnsRecord("_mta-sts." + domain, "TXT", "v=STSv1; id=" + policyId,
            Comment: "Placeholder: publish only once https://mta-sts." + domain + "/.well-known/mta-sts.txt serves: " + MtaStsPolicy(hostName).ReplaceLineEndings(" | ").TrimEnd(' ', '|')));
        records.Add(new DnsRecord("mta-sts." + domain, "CNAME", hostName,
            Comment: "Placeholder: the HTTPS host for the MTA-STS policy (needs a certificate for this name)"));

        // RFC 8460 §3: where sending MTAs report TLS failures.
        records.Add(new DnsRecord("_smtp._tls." + domain, "TXT", "v=TLSRPTv1; rua=mailto:" + report, Comment: "TLS-RPT reporting address"));

        // RFC 8314 §5.1 (implicit TLS preferred: lower priority number) and RFC 6186 §3.
        AddSrv(records, "_submissions._tcp." + domain, 0, options.SubmissionsPort, hostName, "Submission over implicit TLS (RFC 8314)");
        AddSrv(records, "_submission._tcp." + domain, 10, options.SubmissionPort, hostName, "Submission with STARTTLS (RFC 6186)");
        AddSrv(records, "_imaps._tcp." + domain, 0, options.ImapsPort, hostName, "IMAP over implicit TLS");
        AddSrv(records, "_imap._tcp." + domain, 10, options.ImapPort, hostName, "IMAP with STARTTLS");
        AddSrv(records, "_pop3s._tcp." + domain, 0, options.Pop3sPort, hostName, "POP3 over implicit TLS");
        AddSrv(records, "_pop3._tcp." + domain, 10, options.Pop3Port, hostName, "POP3 with STLS");
        return records;
    }

    /// <summary>The MTA-STS policy file (RFC 8461 §3.2) matching the MX record, in testing mode.</summary>
    public static string MtaStsPolicy(string hostName) =>
        "version: STSv1\r\nmode: testing\r\nmx: " + Normalize(hostName, nameof(hostName)) + "\r\nmax_age: 86400\r\n";

    /// <summary>Zone file text for the records, each preceded by its comment.</summary>
    public static string ToZoneFile(IEnumerable<DnsRecord> records, int ttl = 3600)
    {
        var sb = new StringBuilder();
        foreach (var r in records)
        {
            if (r.Comment is not null)
            {
                sb.Append("; ").Append(r.Comment).Append('\n');
            }

            sb.Append(r.ToZoneLine(ttl)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Splits TXT data into character-strings of at most 255 octets (RFC 1035 §3.3).</summary>
    public static IReadOnlyList<string> SplitTxt(string value)
    {
        const int max = 255;
        var chunks = new List<string>();
        for (var i = 0; i < value.Length; i += max)
        {
            chunks.Add(value.Substring(i, Math.Min(max, value.Length - i)));
        }

        return chunks.Count == 0 ? [""] : chunks;
    }

    private static void AddSrv(List<DnsRecord> records, string name, int priority, int? port, string hostName, string what) =>
        records.Add(port is { } p
            ? new DnsRecord(name, "SRV", hostName, priority, 1, p, what)
            : new DnsRecord(name, "SRV", ".", 0, 0, 0, what + ": not offered (RFC 6186 §4)"));

    private static string Normalize(string name, string parameter)
    {
        var n = name.Trim().TrimEnd('.').ToLowerInvariant();
        if (n.Length == 0 || n[0] == '[' || !Core.EmailAddress.IsValidDomain(n))
        {
            throw new ArgumentException("Not a valid domain name: " + name, parameter);
        }

        return n;
    }
}