using System.Net;

using Microsoft.Extensions.Time.Testing;

using MimeKit.Cryptography;

namespace Pochta.Delivery.Tests;

public sealed class DnsRecordsTests
{
    /// <summary>Generated once: the records only need the keys' public halves.</summary>
    private static readonly Lazy<Task<IReadOnlyList<DkimKeyInfo>>> Keys = new(async () =>
    {
        var dir = Directory.CreateTempSubdirectory("pochta-dns-").FullName;
        try
        {
            return await new DkimKeyStore(dir, new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero))).RotateAsync("pochta.test", CancellationToken.None);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 18, 30, 0, TimeSpan.Zero));

    private static Task<IReadOnlyList<DkimKeyInfo>> KeysAsync() => Keys.Value;

    private async Task<IReadOnlyList<DnsRecord>> BuildAsync(DnsRecordOptions? options = null) =>
        DnsRecords.Build("Pochta.TEST.", "mail.pochta.test", await KeysAsync(), options ?? new DnsRecordOptions { Time = _time });

    [Fact]
    public async Task Mx_and_spf_point_at_the_host()
    {
        var records = await BuildAsync();
        var mx = Assert.Single(records, r => r.Type == "MX");
        Assert.Equal(("pochta.test", "mail.pochta.test", 10), (mx.Name, mx.Value, mx.Priority!.Value));
        Assert.Equal("v=spf1 mx -all", Assert.Single(records, r => r.Type == "TXT" && r.Name == "pochta.test").Value);
        Assert.Equal("v=spf1 a -all", Assert.Single(records, r => r.Type == "TXT" && r.Name == "mail.pochta.test").Value);
        Assert.Equal("pochta.test. 3600 IN MX 10 mail.pochta.test.", mx.ToZoneLine(3600));
    }

    [Fact]
    public async Task Every_dkim_key_is_published_under_its_selector()
    {
        var keys = await KeysAsync();
        var records = DnsRecords.Build("pochta.test", "mail.pochta.test", keys, new DnsRecordOptions { Time = _time });
        foreach (var key in keys)
        {
            var txt = Assert.Single(records, r => r.Name == key.Selector + "._domainkey.pochta.test");
            Assert.Equal("TXT", txt.Type);
            Assert.Equal(key.DnsRecordValue, txt.Value);
        }

        // The RSA-2048 record is longer than one character-string: it is split, and rejoins intact.
        var rsa = records.Single(r => r.Name == keys.Single(k => k.Algorithm == DkimSignatureAlgorithm.RsaSha256).DnsName);
        Assert.True(rsa.Value.Length > 255);
        var line = rsa.ToZoneLine(300);
        Assert.Contains("IN TXT ( \"v=DKIM1; k=rsa; p=", line, StringComparison.Ordinal);
        var parts = DnsRecords.SplitTxt(rsa.Value);
        Assert.All(parts, p => Assert.True(p.Length <= 255));
        Assert.Equal(rsa.Value, string.Concat(parts));
    }

    [Fact]
    public async Task Dmarc_mta_sts_and_tls_rpt_are_published_with_the_report_address()
    {
        var records = await BuildAsync(new DnsRecordOptions { ReportAddress = "reports@pochta.test", MtaStsPolicyId = "20261201A" });
        Assert.Equal("v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:reports@pochta.test", Assert.Single(records, r => r.Name == "_dmarc.pochta.test").Value);
        Assert.Equal("v=STSv1; id=20261201A", Assert.Single(records, r => r.Name == "_mta-sts.pochta.test").Value);
        Assert.Equal("v=TLSRPTv1; rua=mailto:reports@pochta.test", Assert.Single(records, r => r.Name == "_smtp._tls.pochta.test").Value);
        var host = Assert.Single(records, r => r.Name == "mta-sts.pochta.test");
        Assert.Equal(("CNAME", "mail.pochta.test"), (host.Type, host.Value));
        Assert.Contains("Placeholder", host.Comment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Defaults_report_to_postmaster_and_date_the_policy_id()
    {
        var records = await BuildAsync();
        Assert.EndsWith("rua=mailto:postmaster@pochta.test", records.Single(r => r.Name == "_dmarc.pochta.test").Value, StringComparison.Ordinal);
        Assert.Equal("v=STSv1; id=20261201183000", records.Single(r => r.Name == "_mta-sts.pochta.test").Value);
    }

    [Fact]
    public void Mta_sts_policy_names_the_mx_host() =>
        Assert.Equal("version: STSv1\r\nmode: testing\r\nmx: mail.pochta.test\r\nmax_age: 86400\r\n", DnsRecords.MtaStsPolicy("Mail.Pochta.Test."));

    [Fact]
    public async Task Srv_records_prefer_implicit_tls_rfc8314_and_cover_submission_imap_pop3()
    {
        var records = await BuildAsync();
        var srv = records.Where(r => r.Type == "SRV").ToDictionary(r => r.Name);
        Assert.Equal((0, 1, 465), (srv["_submissions._tcp.pochta.test"].Priority!.Value, srv["_submissions._tcp.pochta.test"].Weight!.Value, srv["_submissions._tcp.pochta.test"].Port!.Value));
        Assert.Equal((10, 587), (srv["_submission._tcp.pochta.test"].Priority!.Value, srv["_submission._tcp.pochta.test"].Port!.Value));
        Assert.Equal((0, 993), (srv["_imaps._tcp.pochta.test"].Priority!.Value, srv["_imaps._tcp.pochta.test"].Port!.Value));
        Assert.Equal((10, 143), (srv["_imap._tcp.pochta.test"].Priority!.Value, srv["_imap._tcp.pochta.test"].Port!.Value));
        Assert.Equal((0, 995), (srv["_pop3s._tcp.pochta.test"].Priority!.Value, srv["_pop3s._tcp.pochta.test"].Port!.Value));
        Assert.Equal((10, 110), (srv["_pop3._tcp.pochta.test"].Priority!.Value, srv["_pop3._tcp.pochta.test"].Port!.Value));
        Assert.All(srv.Values, r => Assert.Equal("mail.pochta.test", r.Value));
        Assert.Equal("_imaps._tcp.pochta.test. 3600 IN SRV 0 1 993 mail.pochta.test.", srv["_imaps._tcp.pochta.test"].ToZoneLine(3600));
    }

    [Fact]
    public async Task A_service_not_offered_is_published_as_unavailable_rfc6186()
    {
        var records = await BuildAsync(new DnsRecordOptions { Pop3Port = null, Pop3sPort = null, Time = _time });
        var pop3 = records.Single(r => r.Name == "_pop3._tcp.pochta.test");
        Assert.Equal(".", pop3.Value);
        Assert.Equal("_pop3._tcp.pochta.test. 3600 IN SRV 0 0 0 .", pop3.ToZoneLine(3600));
    }

    [Fact]
    public async Task Host_addresses_become_a_and_aaaa_records()
    {
        var records = await BuildAsync(new DnsRecordOptions { Addresses = [IPAddress.Parse("192.0.2.25"), IPAddress.Parse("2001:db8::25")], Time = _time });
        Assert.Equal("192.0.2.25", Assert.Single(records, r => r.Type == "A").Value);
        Assert.Equal("2001:db8::25", Assert.Single(records, r => r.Type == "AAAA").Value);
        Assert.All(records.Where(r => r.Type is "A" or "AAAA"), r => Assert.Equal("mail.pochta.test", r.Name));
    }

    [Fact]
    public async Task Zone_file_has_every_record_with_its_comment()
    {
        var records = await BuildAsync();
        var zone = DnsRecords.ToZoneFile(records);
        var lines = zone.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(records.Count, lines.Count(l => !l.StartsWith(';')));
        Assert.Equal(records.Count(r => r.Comment is not null), lines.Count(l => l.StartsWith(';')));
        Assert.Contains("_dmarc.pochta.test. 3600 IN TXT \"v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@pochta.test\"", lines);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad domain")]
    [InlineData("[192.0.2.1]")]
    public async Task Invalid_domains_are_refused(string domain)
    {
        var keys = await KeysAsync();
        Assert.Throws<ArgumentException>(() => DnsRecords.Build(domain, "mail.pochta.test", [], new DnsRecordOptions { Time = _time }));
        Assert.Throws<ArgumentException>(() => DnsRecords.Build("other.test", "mail.pochta.test", keys, new DnsRecordOptions { Time = _time }));
    }

    [Fact]
    public void An_invalid_policy_id_is_refused() =>
        Assert.Throws<ArgumentException>(() => DnsRecords.Build("pochta.test", "mail.pochta.test", [], new DnsRecordOptions { MtaStsPolicyId = "not-valid" }));
}