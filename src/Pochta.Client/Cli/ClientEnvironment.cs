using Spectre.Console;

namespace Pochta.Client.Cli;

/// <summary>The process surroundings a verb may touch: standard streams, environment variables,
/// the home directory, the terminal, the clock. Tests substitute every member.</summary>
internal sealed class ClientEnvironment
{
    public static ClientEnvironment Default { get; } = new();

    public Func<Stream> OpenStandardInput { get; init; } = Console.OpenStandardInput;

    public Func<Stream> OpenStandardOutput { get; init; } = Console.OpenStandardOutput;

    /// <summary>True when stdin is a pipe or file (the message body comes from it).</summary>
    public bool InputRedirected { get; init; } = Console.IsInputRedirected;

    /// <summary>True when stdout is a terminal (tables, colours, progress bars).</summary>
    public bool OutputIsTerminal { get; init; } = !Console.IsOutputRedirected;

    public Func<string, string?> GetVariable { get; init; } = Environment.GetEnvironmentVariable;

    public string HomeDirectory { get; init; } = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Server-settings discovery (network: HTTPS autoconfig and DNS SRV).</summary>
    public Func<Net.Discovery> Discovery { get; init; } = Net.Discovery.CreateDefault;

    /// <summary>Asks for a secret without echo; null when there is no terminal to ask on.</summary>
    public Func<string, CancellationToken, Task<string?>> PromptSecret { get; init; } = DefaultPromptAsync;

    private static async Task<string?> DefaultPromptAsync(string prompt, CancellationToken cancellationToken)
    {
        if (Console.IsInputRedirected || Console.IsErrorRedirected)
        {
            return null;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await new TextPrompt<string>(prompt).Secret().ShowAsync(console, cancellationToken);
    }
}