using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pochta.Tests;

/// <summary>Every operator error at start: one line <c>pochta: ...</c>, exit code 2, and
/// nothing created in the data directory.</summary>
public sealed class StartupErrorTests
{
    private static void AssertOneLineError(CliResult result, params string[] mentions)
    {
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrLines);
        Assert.StartsWith("pochta: ", line, StringComparison.Ordinal);
        foreach (var m in mentions)
        {
            Assert.Contains(m, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Corrupt_pochta_json_stops_the_start_with_its_position()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Data);
        await File.WriteAllTextAsync(Path.Combine(dir.Data, "pochta.json"), "{\n  \"Server\": { \"HostName\": \"mx\" \n  oops\n}");

        var result = await CliRunner.RunAsync(["serve", "--data", dir.Data, .. CliRunner.EphemeralListeners()]);

        AssertOneLineError(result, "pochta.json", "line 3");
        Assert.Equal(["pochta.json"], Directory.GetFileSystemEntries(dir.Data).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Corrupt_config_file_stops_admin_commands_too()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "custom.json");
        await File.WriteAllTextAsync(file, "[1, 2");

        var result = await CliRunner.RunAsync(["domain", "list", "--data", dir.Data, "--config", file]);

        AssertOneLineError(result, "custom.json");
        Assert.False(Directory.Exists(dir.Data));
    }

    [Fact]
    public async Task Missing_config_file_named_with_config_is_an_error()
    {
        using var dir = new TempDirectory();
        var result = await CliRunner.RunAsync(["serve", "--data", dir.Data, "--config", Path.Combine(dir.Path, "nope.json"), .. CliRunner.EphemeralListeners()]);
        AssertOneLineError(result, "nope.json");
        Assert.False(Directory.Exists(dir.Data));
    }

    [Fact]
    public async Task Missing_certificate_file_names_the_key_and_creates_nothing()
    {
        using var dir = new TempDirectory();
        var missing = Path.Combine(dir.Path, "missing-cert.pem");

        var result = await CliRunner.RunAsync(
            ["serve", "--data", dir.Data, "--set", $"Tls:CertificatePath={missing}", "--set", $"Tls:KeyPath={missing}", .. CliRunner.EphemeralListeners()]);

        AssertOneLineError(result, "Tls:CertificatePath", "missing-cert.pem");
        Assert.False(Directory.Exists(dir.Data));
    }

    [Fact]
    public async Task Data_directory_that_cannot_be_created_is_an_error()
    {
        // Tests run as root, which may write anywhere: a path under a regular file cannot be a directory for anyone.
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "plain-file");
        await File.WriteAllTextAsync(file, "x");
        var data = Path.Combine(file, "data");

        var result = await CliRunner.RunAsync(["serve", "--data", data, .. CliRunner.EphemeralListeners()]);

        AssertOneLineError(result, "data directory", data);
        Assert.Equal("x", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Data_directory_error_also_stops_admin_commands()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "plain-file");
        await File.WriteAllTextAsync(file, "x");

        var result = await CliRunner.RunAsync(["domain", "list", "--data", Path.Combine(file, "data")]);

        AssertOneLineError(result, "data directory");
    }

    [Fact]
    public async Task Port_in_use_names_the_port_and_the_fix_and_creates_nothing()
    {
        using var dir = new TempDirectory();
        using var occupier = new TcpListener(IPAddress.Loopback, 0);
        occupier.Start();
        var port = ((IPEndPoint)occupier.LocalEndpoint).Port;

        var result = await CliRunner.RunAsync(
            ["serve", "--data", dir.Data, .. CliRunner.EphemeralListeners("http"), "--set", $"Listeners:http:Endpoint=127.0.0.1:{port}"]);

        AssertOneLineError(result, $"port {port}", "in use", "Listeners:http:Endpoint");
        Assert.False(Directory.Exists(dir.Data));
    }

    [Theory]
    [InlineData("Server:MaxConnectionsPerIp=0", "Server:MaxConnectionsPerIp")]
    [InlineData("Server:MaxConnectionsPerIp=many", "Server:MaxConnectionsPerIp")]
    [InlineData("Server:LoopbackIsSecure=perhaps", "Server:LoopbackIsSecure")]
    [InlineData("Server:HostName=", "Server:HostName")]
    [InlineData("Listeners:http:Endpoint=nowhere", "Listeners:http:Endpoint")]
    [InlineData("Listeners:http:Protocol=Gopher", "Listeners:http:Protocol")]
    [InlineData("Outbound:MaxConnections=0", "Outbound:MaxConnections")]
    public async Task Invalid_value_stops_the_start_naming_the_key(string set, string key)
    {
        using var dir = new TempDirectory();

        var result = await CliRunner.RunAsync(["serve", "--data", dir.Data, .. CliRunner.EphemeralListeners(), "--set", set]);

        AssertOneLineError(result, key);
        Assert.DoesNotContain("Exception", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.Data));
    }

    [Fact]
    public async Task Malformed_set_is_a_usage_error()
    {
        using var dir = new TempDirectory();
        var result = await CliRunner.RunAsync(["serve", "--data", dir.Data, "--set", "Server:HostName"]);
        AssertOneLineError(result, "--set expects KEY=VALUE");
    }

    [Fact]
    public async Task Unknown_command_line_option_is_a_usage_error()
    {
        var result = await CliRunner.RunAsync(["domain", "list", "--frobnicate"]);
        AssertOneLineError(result, "--frobnicate");
    }

    [Fact]
    public async Task The_executable_exits_2_with_one_line_on_stderr()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Data);
        await File.WriteAllTextAsync(Path.Combine(dir.Data, "pochta.json"), "{ not json");
        var dll = Path.Combine(AppContext.BaseDirectory, "pochta.dll");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "serve", "--data", dir.Data })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("pochta: ", line, StringComparison.Ordinal);
        Assert.Equal("", await stdout);
    }
}