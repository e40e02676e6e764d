using System.CommandLine;
using System.Text.Json;

using MailKit.Net.Imap;

using Pochta.Client.Config;
using Pochta.Client.Net;

using Spectre.Console;

namespace Pochta.Client.Cli;

/// <summary>One invocation of a verb: parsed options, output writers, configuration, connections
/// (opened lazily, closed politely at the end).</summary>
internal sealed class VerbContext : IAsyncDisposable
{
    private readonly GlobalOptions _globals;
    private ImapClient? _imap;
    private IAnsiConsole? _console;

    public VerbContext(ParseResult parse, ClientEnvironment environment, GlobalOptions globals, CancellationToken cancellationToken)
    {
        Parse = parse;
        Environment = environment;
        _globals = globals;
        CancellationToken = cancellationToken;
        Passwords = new PasswordResolver(environment);
        Connector = new MailConnector(Passwords);
        ConfigStore = new ConfigStore(parse.GetValue(globals.Config) ?? ConfigStore.DefaultPath(environment));
    }

    public ParseResult Parse { get; }

    public ClientEnvironment Environment { get; }

    public CancellationToken CancellationToken { get; }

    public PasswordResolver Passwords { get; }

    public MailConnector Connector { get; }

    public ConfigStore ConfigStore { get; }

    public TextWriter Out => Parse.InvocationConfiguration.Output;

    public TextWriter Error => Parse.InvocationConfiguration.Error;

    public bool Json => Parse.GetValue(_globals.Json);

    public string? AccountName => Parse.GetValue(_globals.Account);

    public T? Get<T>(Option<T> option) => Parse.GetValue(option);

    public T? Get<T>(Argument<T> argument) => Parse.GetValue(argument);

    /// <summary>A console for tables and progress on <see cref="Out"/>; plain text when not a terminal.</summary>
    public IAnsiConsole Console => _console ??= CreateConsole();

    public async Task<AccountConfig> GetAccountAsync()
    {
        var config = await ConfigStore.LoadAsync(CancellationToken);
        var name = AccountName ?? config.DefaultAccount;
        if (name is null)
        {
            return config.Accounts.Count == 1
                ? config.Accounts[0]
                : throw ClientException.Usage(config.Accounts.Count == 0
                    ? $"no account configured: run 'pochta mail account add' (config {ConfigStore.Path})"
                    : "several accounts and no default: use --account NAME");
        }

        return config.Accounts.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.Ordinal))
            ?? throw ClientException.NotFound($"no account named {name}");
    }

    /// <summary>The account's IMAP connection, shared by the verb's steps.</summary>
    public async Task<ImapClient> ImapAsync(AccountConfig account)
    {
        return _imap ??= await Connector.ImapAsync(account, CancellationToken);
    }

    public void WriteJson<T>(T value)
    {
        Out.WriteLine(JsonSerializer.Serialize(value, CompactJson));
    }

    public async ValueTask DisposeAsync()
    {
        if (_imap is { } imap)
        {
            try
            {
                if (imap.IsConnected)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await imap.DisconnectAsync(quit: true, timeout.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or MailKit.ProtocolException or ImapCommandException)
            {
                // Closing politely is best effort; the work is done.
            }

            imap.Dispose();
        }
    }

    internal static readonly JsonSerializerOptions CompactJson = new(JsonSerializerDefaults.Web);

    private IAnsiConsole CreateConsole()
    {
        var terminal = Environment.OutputIsTerminal && ReferenceEquals(Out, System.Console.Out);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Out),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 160;
        }

        return console;
    }
}