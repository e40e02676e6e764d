using System.Text.Json;
using System.Text.Json.Serialization;

using Spectre.Console;

namespace Pochta.Cli;

/// <summary>The streams a command talks to: the process console, or buffers in tests.</summary>
internal sealed class CliConsole(TextWriter output, TextWriter error, TextReader input, bool interactive)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private IAnsiConsole? _ansi;

    public static CliConsole Process() =>
        new(Console.Out, Console.Error, Console.In, !Console.IsInputRedirected && !Console.IsOutputRedirected);

    public TextWriter Out => output;

    public TextWriter Error => error;

    public TextReader In => input;

    /// <summary>A terminal is attached: passwords may be prompted for.</summary>
    public bool Interactive => interactive;

    /// <summary>Spectre.Console over <see cref="Out"/> (plain text when it is not a terminal).</summary>
    public IAnsiConsole Ansi => _ansi ??= CreateAnsi();

    private IAnsiConsole CreateAnsi()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Ansi = ReferenceEquals(output, Console.Out) ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ReferenceEquals(output, Console.Out) ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        if (!interactive)
        {
            // Piped into a file or grep: no terminal width to respect, so never wrap cells.
            console.Profile.Width = 240;
        }

        return console;
    }

    public void WriteJson<T>(T value) => output.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    public void Line(string text) => output.WriteLine(text);

    /// <summary>One diagnostic line: <c>pochta: message</c>.</summary>
    public void Fail(string message) => error.WriteLine("pochta: " + message);

    public void Warn(string message) => error.WriteLine("pochta: warning: " + message);
}

/// <summary>The request was understood and refused (not found, exists, needs --force): exit code 1.</summary>
internal sealed class CliRefusedException(string message) : Exception(message);

internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Not found, already exists, needs <c>--force</c>, invalid name.</summary>
    public const int Refused = 1;

    /// <summary>Usage, configuration or environment error (corrupt pochta.json, busy port, unwritable data directory).</summary>
    public const int Environment = 2;

    /// <summary>A bug (sysexits EX_SOFTWARE).</summary>
    public const int InternalError = 70;

    /// <summary>Stopped by the caller before finishing (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}