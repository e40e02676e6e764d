using System.Text.Json;

namespace Pochta.Tests;

/// <summary><c>dns show</c> and <c>dkim rotate</c> against a fresh data directory.</summary>
public sealed class DnsCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>With DKIM on: keys live in DATA/dkim, as the server's signer reads them.</summary>
    private Task<CliResult> Run(params string[] args) =>
        CliRunner.RunAsync([.. args, "--data", _dir.Data], environment: new Dictionary<string, string?> { ["POCHTA__Server__HostName"] = "mx.example.com" });

    [Fact]
    public async Task Dns_show_lists_every_record_with_the_published_dkim_keys()
    {
        Assert.Equal(0, (await Run("domain", "add", "example.com")).ExitCode);

        var result = await Run("dns", "show", "example.com", "--address", "192.0.2.7", "--json");

        Assert.True(result.ExitCode == 0, result.Err);
        var records = JsonDocument.Parse(result.Out).RootElement.GetProperty("records").EnumerateArray()
            .Select(r => (Name: r.GetProperty("name").GetString()!, Type: r.GetProperty("type").GetString()!, Value: r.GetProperty("value").GetString()!))
            .ToList();
        Assert.Contains(("example.com", "MX", "mx.example.com"), records);
        Assert.Contains(("mx.example.com", "A", "192.0.2.7"), records);
        Assert.Contains(records, r => r.Name == "_dmarc.example.com" && r.Type == "TXT" && r.Value.StartsWith("v=DMARC1;", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Name == "example.com" && r.Type == "TXT" && r.Value.StartsWith("v=spf1", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Name == "_submissions._tcp.example.com" && r.Type == "SRV");
        Assert.Contains(records, r => r.Name == "_imaps._tcp.example.com" && r.Type == "SRV");
        var dkim = records.Where(r => r.Name.EndsWith("._domainkey.example.com", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, dkim.Count);
        Assert.Contains(dkim, r => r.Value.Contains("k=rsa;", StringComparison.Ordinal));
        Assert.Contains(dkim, r => r.Value.Contains("k=ed25519;", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dkim_rotate_publishes_new_selectors_and_dns_show_follows()
    {
        Assert.Equal(0, (await Run("domain", "add", "example.com")).ExitCode);
        var before = (await Run("dns", "show", "example.com")).Out;

        var rotated = await Run("dkim", "rotate", "example.com", "--json");

        Assert.True(rotated.ExitCode == 0, rotated.Err);
        var names = JsonDocument.Parse(rotated.Out).RootElement.EnumerateArray().Select(k => k.GetProperty("name").GetString()!).ToList();
        Assert.Equal(2, names.Count);
        Assert.All(names, n => Assert.DoesNotContain(n, before, StringComparison.Ordinal));
        var after = (await Run("dns", "show", "example.com")).Out;
        Assert.All(names, n => Assert.Contains(n, after, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_domains_are_refused()
    {
        var show = await Run("dns", "show", "nowhere.example");
        var rotate = await Run("dkim", "rotate", "nowhere.example");

        Assert.Equal(1, show.ExitCode);
        Assert.Equal(1, rotate.ExitCode);
        Assert.Equal("pochta: domain not found", show.Err.Trim());
    }
}