using System.Text.Json;

using Pochta.Configuration;

namespace Pochta.Tests;

public sealed class ConfigurationTests
{
    private static async Task<JsonElement> ShowAsync(string data, IReadOnlyDictionary<string, string?>? environment = null, params string[] extra)
    {
        var result = await CliRunner.RunAsync(["config", "show", "--json", "--data", data, .. extra], environment: environment);
        Assert.Equal(0, result.ExitCode);
        return JsonDocument.Parse(result.Out).RootElement.GetProperty("values");
    }

    [Fact]
    public void Sources_apply_in_order_defaults_file_environment_set()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Data);
        File.WriteAllText(Path.Combine(dir.Data, "pochta.json"), """
            { "Server": { "HostName": "from-file", "MaxConnectionsPerIp": 7, "LoopbackIsSecure": false } }
            """);
        var environment = new Dictionary<string, string?>
        {
            ["POCHTA__Server__HostName"] = "from-env",
            ["POCHTA__Server__MaxConnectionsPerIp"] = "8",
            ["UNRELATED"] = "x",
        };

        var built = PochtaConfiguration.Build(new ConfigurationInput(dir.Data, Sets: ["Server:HostName=from-set"], Environment: environment));

        Assert.Equal("from-set", built.Root["Server:HostName"]);
        Assert.Equal("8", built.Root["Server:MaxConnectionsPerIp"]);
        Assert.Equal("false", built.Root["Server:LoopbackIsSecure"]);
        Assert.Equal(Path.GetFullPath(dir.Data), built.Root["Storage:DataDirectory"]);
        Assert.Equal("*:25", built.Root["Listeners:smtp:Endpoint"]);
        Assert.Null(built.Root["UNRELATED"]);
    }

    [Fact]
    public void Development_defaults_are_loopback_ports()
    {
        var built = PochtaConfiguration.Build(new ConfigurationInput("/tmp/x", Development: true, Environment: new Dictionary<string, string?>()));
        Assert.Equal("127.0.0.1:2525", built.Root["Listeners:smtp:Endpoint"]);
        Assert.Equal("127.0.0.1:1993", built.Root["Listeners:imaps:Endpoint"]);
        Assert.Equal("127.0.0.1:8080", built.Root["Listeners:http:Endpoint"]);
    }

    [Fact]
    public async Task Config_show_prints_the_effective_values_with_defaults()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Data);
        await File.WriteAllTextAsync(Path.Combine(dir.Data, "pochta.json"), """{ "Server": { "HostName": "mx.example.com" } }""");

        var values = await ShowAsync(dir.Data, new Dictionary<string, string?> { ["POCHTA__Server__MaxConnectionsPerIp"] = "5" });

        Assert.Equal("mx.example.com", values.GetProperty("Server:HostName").GetString());
        Assert.Equal("5", values.GetProperty("Server:MaxConnectionsPerIp").GetString());
        Assert.Equal("True", values.GetProperty("Server:LoopbackIsSecure").GetString());
        Assert.Equal("Smtp", values.GetProperty("Listeners:smtp:Protocol").GetString());
        Assert.Equal("00:05:00", values.GetProperty("Outbound:CommandTimeout").GetString());
    }

    [Fact]
    public async Task Config_show_masks_secrets()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Data);
        await File.WriteAllTextAsync(Path.Combine(dir.Data, "pochta.json"), """
            { "Outbound": { "SmartHost": { "Host": "relay.example.net", "UserName": "u", "Password": "hunter2" } } }
            """);

        var result = await CliRunner.RunAsync(["config", "show", "--data", dir.Data]);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("hunter2", result.Out, StringComparison.Ordinal);
        Assert.Contains("relay.example.net", result.Out, StringComparison.Ordinal);
        var values = await ShowAsync(dir.Data);
        Assert.Equal("********", values.GetProperty("Outbound:SmartHost:Password").GetString());
    }

    [Fact]
    public async Task Unknown_keys_are_reported_with_their_source()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Data);
        await File.WriteAllTextAsync(Path.Combine(dir.Data, "pochta.json"), """
            { "Server": { "HostNme": "typo" }, "Listeners": { "smtp": { "Endpont": "*:25" } }, "Logging": { "LogLevel": { "Pochta": "Debug" } } }
            """);

        var result = await CliRunner.RunAsync(
            ["config", "show", "--data", dir.Data],
            environment: new Dictionary<string, string?> { ["POCHTA__Bogus__Key"] = "1", ["POCHTA__Server__HostName"] = "fine" });

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(3, result.ErrLines.Length);
        Assert.Contains(result.ErrLines, l => l.StartsWith("pochta: warning: unknown configuration key Server:HostNme (pochta.json)", StringComparison.Ordinal));
        Assert.Contains(result.ErrLines, l => l.Contains("Listeners:smtp:Endpont", StringComparison.Ordinal));
        Assert.Contains(result.ErrLines, l => l.Contains("Bogus:Key (environment)", StringComparison.Ordinal));
    }

    [Fact]
    public void Schema_knows_nested_dictionary_and_array_keys()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddPochtaCore(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()).AddPochtaServer();
        var schema = ConfigurationSchema.FromServices(services);

        Assert.True(schema.IsKnown("Outbound:TransportMap:example.org"));
        Assert.True(schema.IsKnown("Outbound:RetrySchedule:0"));
        Assert.True(schema.IsKnown("outbound:smarthost:password"));
        Assert.True(schema.IsKnown("Listeners:anything:Enabled"));
        Assert.False(schema.IsKnown("Outbound:RetrySchedule:first"));
        Assert.False(schema.IsKnown("Server:HostName:Extra"));
        Assert.False(schema.IsKnown("Nope"));
    }
}