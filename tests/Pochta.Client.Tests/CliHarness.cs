using System.CommandLine;
using System.Text;

using Microsoft.Extensions.Time.Testing;

using Pochta.Client.Cli;

namespace Pochta.Client.Tests;

/// <summary>Runs <c>mail</c>/<c>sendmail</c> in-process with captured output and a fake environment.</summary>
internal sealed class CliHarness(TempDirectory home)
{
    public Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

    public string? Stdin { get; set; }

    public string? PromptAnswer { get; set; }

    /// <summary>Autoconfig documents by URL and SRV answers by name; nothing touches the network.</summary>
    public Dictionary<string, string> Autoconfig { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<Net.SrvTarget>> Srv { get; } = new(StringComparer.Ordinal);

    public string ConfigPath => home.Combine(".config", "pochta", "mail.json");

    public ClientEnvironment Environment => new()
    {
        HomeDirectory = home.Path,
        GetVariable = name => Variables.TryGetValue(name, out var value) ? value : null,
        InputRedirected = Stdin is not null,
        OpenStandardInput = () => new MemoryStream(Encoding.UTF8.GetBytes(Stdin ?? string.Empty)),
        OpenStandardOutput = () => new MemoryStream(),
        OutputIsTerminal = false,
        PromptSecret = (_, _) => Task.FromResult(PromptAnswer),
        Discovery = () => new Net.Discovery(
            (uri, _) => Task.FromResult(Autoconfig.TryGetValue(uri.ToString(), out var xml) ? xml : null),
            (name, _) => Task.FromResult<IReadOnlyList<Net.SrvTarget>>(Srv.TryGetValue(name, out var targets) ? targets : [])),
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero)),
    };

    public Task<(int Code, string Out, string Error)> MailAsync(params string[] args) => RunAsync(MailCommand.Create(Environment), args);

    public Task<(int Code, string Out, string Error)> SendmailAsync(params string[] args) => RunAsync(SendmailCommand.Create(Environment), args);

    private static async Task<(int, string, string)> RunAsync(Command command, string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var code = await command.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, timeout.Token);
        return (code, output.ToString(), error.ToString());
    }
}