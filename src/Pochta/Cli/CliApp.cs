using System.CommandLine;
using System.Data.Common;

using Pochta.Configuration;
using Pochta.Hosting;
using Pochta.Storage;

namespace Pochta.Cli;

/// <summary>The global options every command takes.</summary>
internal sealed class GlobalOptions
{
    public Option<string> Data { get; } = new("--data")
    {
        Description = "Data directory: database, blobs, TLS material, pochta.json",
        DefaultValueFactory = _ => "./data",
        Recursive = true,
        HelpName = "DIR",
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = "Configuration file (default: DATA/pochta.json when it exists)",
        Recursive = true,
        HelpName = "FILE",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Machine-readable output",
        Recursive = true,
    };

    public ConfigurationInput Input(ParseResult result, IReadOnlyDictionary<string, string?>? environment) =>
        new(result.GetValue(Data) ?? "./data", result.GetValue(Config), Environment: environment);
}

/// <summary>Builds and runs the <c>pochta</c> command line.</summary>
internal static class CliApp
{
    /// <param name="environment">Variables for <c>POCHTA__*</c> (tests); null reads the process environment.</param>
    public static async Task<int> RunAsync(string[] args, CliConsole console, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand("Pochta: SMTP, IMAP and POP3 mail server with an embedded store");
        root.Options.Add(globals.Data);
        root.Options.Add(globals.Config);
        root.Options.Add(globals.Json);

        var context = new CommandContext(globals, console, environment);
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(ConfigCommands.Create(context));
        root.Subcommands.Add(DirectoryCommands.CreateDomain(context));
        root.Subcommands.Add(DirectoryCommands.CreateUser(context));
        root.Subcommands.Add(DirectoryCommands.CreateAlias(context));
        root.Subcommands.Add(DirectoryCommands.CreateMailbox(context));
        root.Subcommands.Add(QueueCommands.Create(context));

        // The user agent (issue 7): a client of the standard protocols, not of this server's store.
        root.Subcommands.Add(Pochta.Client.MailCommand.Create());
        root.Subcommands.Add(Pochta.Client.SendmailCommand.Create());

        // No response files: "@example.com" is a catch-all alias source, not a file to expand.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            console.Fail(string.Join("; ", parsed.Errors.Select(e => e.Message)) + " (see pochta --help)");
            return ExitCodes.Environment;
        }

        // The Generic Host handles SIGINT/SIGTERM for serve (graceful shutdown may take
        // Server:ShutdownTimeout); System.CommandLine must not cut it short.
        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        };
        return await parsed.InvokeAsync(invocation, cancellationToken);
    }
}

/// <summary>What every command action gets.</summary>
internal sealed class CommandContext(GlobalOptions globals, CliConsole console, IReadOnlyDictionary<string, string?>? environment)
{
    public GlobalOptions Globals => globals;

    public CliConsole Console => console;

    public IReadOnlyDictionary<string, string?>? Environment => environment;

    public bool Json(ParseResult result) => result.GetValue(globals.Json);

    public ConfigurationInput Input(ParseResult result) => globals.Input(result, environment);

    /// <summary>Runs an admin action against the store, mapping failures to exit codes.</summary>
    public Task<int> WithStoreAsync(ParseResult result, Func<AdminContext, Task<int>> action, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            await using var admin = await AdminContext.OpenAsync(Input(result), cancellationToken);
            return await action(admin);
        });

    /// <summary>Maps exceptions to one line and an exit code.</summary>
    public async Task<int> GuardAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (StartupException e)
        {
            console.Fail(e.Message);
            return ExitCodes.Environment;
        }
        catch (Exception e) when (e is CliRefusedException or StoreNotFoundException or StoreConflictException)
        {
            console.Fail(e.Message);
            return ExitCodes.Refused;
        }
        catch (Exception e) when (e is DbException or IOException or UnauthorizedAccessException)
        {
            console.Fail("store error: " + e.Message);
            return ExitCodes.Environment;
        }
        catch (OperationCanceledException)
        {
            console.Fail("interrupted");
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            // A bug, not an operator error: one line first, then the details for the report.
            console.Fail($"internal error: {e.GetType().Name}: {e.Message}");
            await console.Error.WriteLineAsync(e.ToString());
            return ExitCodes.InternalError;
        }
    }
}