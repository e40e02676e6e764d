using System.Text.Json;

namespace Pochta.Tests;

/// <summary>Where the admin options <c>--data</c>, <c>--config</c>, <c>--json</c> apply.</summary>
public sealed class GlobalOptionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Admin_options_work_before_and_after_the_verb()
    {
        var before = await CliRunner.RunAsync(["--data", _dir.Data, "domain", "add", "example.com"]);
        Assert.True(before.ExitCode == 0, before.Err);

        var after = await CliRunner.RunAsync(["domain", "list", "--json", "--data", _dir.Data]);
        Assert.True(after.ExitCode == 0, after.Err);
        Assert.Equal("example.com", JsonDocument.Parse(after.Out).RootElement.EnumerateArray().Single().GetProperty("name").GetString());

        var rootJson = await CliRunner.RunAsync(["--json", "--data", _dir.Data, "domain", "list"]);
        Assert.True(rootJson.ExitCode == 0, rootJson.Err);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(rootJson.Out).RootElement.ValueKind);
    }

    [Fact]
    public async Task Mail_help_lists_only_the_clients_own_options()
    {
        var help = await CliRunner.RunAsync(["mail", "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Single(help.Out.Split('\n'), l => l.TrimStart().StartsWith("--config", StringComparison.Ordinal));
        Assert.Single(help.Out.Split('\n'), l => l.TrimStart().StartsWith("--json", StringComparison.Ordinal));
        Assert.DoesNotContain("--data", help.Out, StringComparison.Ordinal);
    }
}