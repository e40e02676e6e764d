using System.CommandLine;
using System.Data.Common;

using Pochta.Configuration;
using Pochta.Hosting;
using Pochta.Storage;

namespace Pochta.Cli;

/// <summary>The global options every admin command takes. Each exists twice: once on the root
/// (before the verb: <c>pochta --data DIR user list</c>) and once, recursive, on each admin verb's
/// subtree (after it: <c>pochta user list --data DIR</c>). They are not recursive from the root,
/// so <c>pochta mail</c> and <c>pochta sendmail</c>, which have their own <c>--config</c> and
/// <c>--json</c>, neither inherit nor list them.</summary>
internal sealed class GlobalOptions
{
    private readonly Option<string> _rootData = DataOption(recursive: false);
    private readonly Option<string?> _rootConfig = ConfigOption(recursive: false);
    private readonly Option<bool> _rootJson = JsonOption(recursive: false);
    private readonly Option<string> _data = DataOption(recursive: true);
    private readonly Option<string?> _config = ConfigOption(recursive: true);
    private readonly Option<bool> _json = JsonOption(recursive: true);

    public void AddToRoot(Command root)
    {
        root.Options.Add(_rootData);
        root.Options.Add(_rootConfig);
        root.Options.Add(_rootJson);
    }

    /// <summary>Adds the options to an admin verb and everything under it.</summary>
    public Command AddTo(Command verb)
    {
        verb.Options.Add(_data);
        verb.Options.Add(_config);
        verb.Options.Add(_json);
        return verb;
    }

    public bool Json(ParseResult result) => result.GetValue(_json) || result.GetValue(_rootJson);

    public ConfigurationInput Input(ParseResult result, IReadOnlyDictionary<string, string?>? environment) =>
        new(Pick(result, _data, _rootData) ?? "./data", Pick(result, _config, _rootConfig), Environment: environment);

    /// <summary>The value given after the verb, else the one given before it, else the default.</summary>
    private static T? Pick<T>(ParseResult result, Option<T> inner, Option<T> outer) =>
        result.GetResult(inner) is { Implicit: false } ? result.GetValue(inner) : result.GetValue(outer);

    private static Option<string> DataOption(bool recursive) => new("--data")
    {
        Description = "Data directory: database, blobs, TLS material, pochta.json",
        DefaultValueFactory = _ => "./data",
        Recursive = recursive,
        HelpName = "DIR",
    };

    private static Option<string?> ConfigOption(bool recursive) => new("--config")
    {
        Description = "Configuration file (default: DATA/pochta.json when it exists)",
        Recursive = recursive,
        HelpName = "FILE",
    };

    private static Option<bool> JsonOption(bool recursive) => new("--json")
    {
        Description = "Machine-readable output",
        Recursive = recursive,
    };
}

/// <summary>Builds and runs the <c>pochta</c> command line.</summary>
internal static class CliApp
{
    /// <param name="environment">Variables for <c>POCHTA__*</c> (tests); null reads the process environment.</param>
    public static async Task<int> RunAsync(string[] args, CliConsole console, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand("Pochta: SMTP, IMAP and POP3 mail server with an embedded store");
        globals.AddToRoot(root);

        var context = new CommandContext(globals, console, environment);
        root.Subcommands.Add(globals.AddTo(ServeCommand.Create(context)));
        root.Subcommands.Add(globals.AddTo(ConfigCommands.Create(context)));
        root.Subcommands.Add(globals.AddTo(DirectoryCommands.CreateDomain(context)));
        root.Subcommands.Add(globals.AddTo(DirectoryCommands.CreateUser(context)));
        root.Subcommands.Add(globals.AddTo(DirectoryCommands.CreateAlias(context)));
        root.Subcommands.Add(globals.AddTo(DirectoryCommands.CreateMailbox(context)));
        root.Subcommands.Add(globals.AddTo(QueueCommands.Create(context)));
        root.Subcommands.Add(globals.AddTo(DnsCommands.CreateDns(context)));
        root.Subcommands.Add(globals.AddTo(DnsCommands.CreateDkim(context)));

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

    public bool Json(ParseResult result) => globals.Json(result);

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