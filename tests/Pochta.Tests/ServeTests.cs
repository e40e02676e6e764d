using System.Net.Http;
using System.Text.RegularExpressions;
using System.Xml.Linq;

using Microsoft.Extensions.DependencyInjection;

using Pochta.Configuration;
using Pochta.Sasl;

namespace Pochta.Tests;

/// <summary><c>pochta serve</c> through the command line, in-process.</summary>
public sealed partial class ServeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Runs serve until <paramref name="until"/> appears on stdout, then stops it.</summary>
    private static async Task<(int ExitCode, string Out, string Err, T Seen)> ServeUntilAsync<T>(string[] args, string until, Func<string, Task<T>> whileRunning)
    {
        var output = new LockedWriter();
        var error = new LockedWriter();
        var console = new Cli.CliConsole(output, error, new StringReader(""), interactive: false);
        using var stop = new CancellationTokenSource();
        var run = Cli.CliApp.RunAsync(args, console, new Dictionary<string, string?>(), stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!output.ToString().Contains(until, StringComparison.Ordinal))
        {
            if (run.IsCompleted || DateTime.UtcNow > deadline)
            {
                Assert.Fail($"serve did not print '{until}' (exit {(run.IsCompleted ? await run : -1)}): {output}{error}");
            }

            await Task.Delay(50);
        }

        T seen;
        try
        {
            seen = await whileRunning(output.ToString());
        }
        finally
        {
            await stop.CancelAsync();
        }

        var code = await run.WaitAsync(TimeSpan.FromSeconds(60));
        return (code, output.ToString(), error.ToString(), seen);
    }

    [GeneratedRegex(@"Demo account demo@example\.test, password (\S+)")]
    private static partial Regex PasswordLine();

    [GeneratedRegex(@"HTTP \(autoconfig, /healthz\)\s+(\S+)")]
    private static partial Regex HttpLine();

    [Fact]
    public async Task Dev_first_start_creates_the_demo_account_and_prints_its_password_once()
    {
        string[] args = ["serve", "--dev", "--data", _dir.Data, .. CliRunner.EphemeralListeners(), "--set", "Server:HostName=dev.example", "--set", "Bogus:Key=1"];

        var first = await ServeUntilAsync(args, "Press Ctrl+C", async output =>
        {
            // The HTTP listener answers on the printed endpoint, with the --set host name.
            var endpoint = HttpLine().Match(output).Groups[1].Value;
            using var http = new HttpClient();
            Assert.Equal("ok\n", await http.GetStringAsync($"http://{endpoint}/healthz"));
            var xml = XDocument.Parse(await http.GetStringAsync($"http://{endpoint}/mail/config-v1.1.xml"));
            return xml.Root!.Element("emailProvider")!.Element("domain")!.Value + " " + xml.Root!.Element("emailProvider")!.Element("displayName")!.Value;
        });

        Assert.Equal(0, first.ExitCode);
        Assert.Equal("example.test Pochta on dev.example", first.Seen);
        Assert.Contains("loopback only", first.Out, StringComparison.Ordinal);
        Assert.Contains("pochta: warning: unknown configuration key Bogus:Key (--set)", first.Err, StringComparison.Ordinal);
        var password = PasswordLine().Match(first.Out).Groups[1].Value;
        Assert.True(password.Length >= 16, first.Out);

        await using (var admin = await AdminContext.OpenAsync(new ConfigurationInput(_dir.Data, Environment: new Dictionary<string, string?>()), CancellationToken.None))
        {
            var user = await admin.Services.GetRequiredService<IAuthenticator>().VerifyPasswordAsync("demo@example.test", password, CancellationToken.None);
            Assert.Equal("demo@example.test", user?.Address);
        }

        var second = await ServeUntilAsync(args, "Press Ctrl+C", _ => Task.FromResult(0));
        Assert.Equal(0, second.ExitCode);
        Assert.DoesNotContain(password, second.Out, StringComparison.Ordinal);
        Assert.Contains("printed at the first start", second.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir.Data, "tls", "cert.pem")));
    }

    [Fact]
    public async Task Production_serve_prints_one_line_per_listener()
    {
        var run = await ServeUntilAsync(["serve", "--data", _dir.Data, .. CliRunner.EphemeralListeners()], "(http, Http)", _ => Task.FromResult(0));
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"pochta: listening on 127\.0\.0\.1:\d+ \(http, Http\)", run.Out);
    }
}