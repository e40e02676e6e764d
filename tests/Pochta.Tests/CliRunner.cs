using System.Text;

using Pochta.Cli;
using Pochta.Hosting;

namespace Pochta.Tests;

internal sealed record CliResult(int ExitCode, string Out, string Err)
{
    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs the real command line in-process with captured streams and no process
/// environment (so a developer's POCHTA__* variables cannot leak in).</summary>
internal static class CliRunner
{
    /// <summary>The default test environment: no DKIM key generation on <c>domain add</c>
    /// (RSA key generation is slow; one test covers it with an empty environment).</summary>
    public static readonly IReadOnlyDictionary<string, string?> NoDkim = new Dictionary<string, string?> { ["POCHTA__Outbound__DkimDirectory"] = "" };

    public static async Task<CliResult> RunAsync(string[] args, string? stdin = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var output = new LockedWriter();
        var error = new LockedWriter();
        var console = new CliConsole(output, error, new StringReader(stdin ?? ""), interactive: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var code = await CliApp.RunAsync(args, console, environment ?? NoDkim, timeout.Token);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary><c>--set</c> items that move every standard listener to an ephemeral loopback port.</summary>
    public static string[] EphemeralListeners(params string[] except) =>
        ListenerSettings.Defaults().Keys
            .Where(k => !except.Contains(k, StringComparer.OrdinalIgnoreCase))
            .SelectMany(k => new[] { "--set", $"Listeners:{k}:Endpoint=127.0.0.1:0" })
            .ToArray();
}

/// <summary>A StringWriter that can be read while a running server writes to it.</summary>
internal sealed class LockedWriter : StringWriter
{
    private readonly Lock _gate = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_gate)
        {
            base.Write(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            base.Write(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_gate)
        {
            base.Write(buffer, index, count);
        }
    }

    public override string ToString()
    {
        lock (_gate)
        {
            return base.ToString();
        }
    }
}

/// <summary>A fresh directory under the temp directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pochta-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>A data directory path inside this directory that does not exist yet.</summary>
    public string Data => System.IO.Path.Combine(Path, "data");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}