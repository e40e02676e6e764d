using System.Net;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

using Pochta.Configuration;
using Pochta.Core;
using Pochta.Hosting;
using Pochta.Server;
using Pochta.Storage;

namespace Pochta.Testing;

/// <summary>Options for <see cref="PochtaTestServer.StartAsync(PochtaTestServerOptions?, CancellationToken)"/>.</summary>
public sealed class PochtaTestServerOptions
{
    /// <summary>Configuration keys (<c>Section:Key</c>) applied after everything else, e.g.
    /// <c>["Smtp:MaxMessageSize"] = "1048576"</c> or <c>["Listeners:imap:Enabled"] = "false"</c>.</summary>
    public IDictionary<string, string?> Configuration { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Replaces the server's <see cref="System.TimeProvider"/> (pass a FakeTimeProvider to drive timeouts and the queue).</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Runs after the composition root: replace or add services (e.g. a test DNS resolver).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }
}

/// <summary>
/// The real Pochta host (the same <c>serve</c> start-up path as the executable), in-process,
/// on ephemeral loopback ports (every listener on <c>127.0.0.1:0</c>), with a temporary data
/// directory deleted on dispose. Only listeners whose protocol has a registered handler run;
/// <see cref="Port"/> says where each one listens. Safe to run many in parallel.
/// </summary>
/// <example>
/// <code>
/// await using var server = await PochtaTestServer.StartAsync();
/// await server.CreateUserAsync("alice@example.test", "secret");
/// using var smtp = new SmtpClient();
/// await smtp.ConnectAsync("127.0.0.1", server.Port(MailProtocol.Submission), SecureSocketOptions.None);
/// var messages = await server.ReadMailboxAsync("alice@example.test");
/// </code>
/// </example>
public sealed class PochtaTestServer : IAsyncDisposable
{
    private readonly RunningServer _server;

    private PochtaTestServer(RunningServer server)
    {
        _server = server;
        Store = server.Services.GetRequiredService<IMailStore>();
    }

    /// <summary>The temporary data directory (database, blobs, <c>tls/</c>).</summary>
    public string DataDirectory => _server.DataDirectory;

    /// <summary>The server's services (e.g. <c>GetRequiredService&lt;IAuthenticator&gt;()</c>).</summary>
    public IServiceProvider Services => _server.Services;

    /// <summary>The server's store: the same instance the sessions use.</summary>
    public IMailStore Store { get; }

    /// <summary>The live listeners with their bound endpoints.</summary>
    public IReadOnlyList<ListenerInfo> Listeners => _server.Listeners;

    /// <summary>Starts a server. Start-up errors surface as <see cref="StartupException"/>.</summary>
    public static async Task<PochtaTestServer> StartAsync(PochtaTestServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PochtaTestServerOptions();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "pochta-tests", Guid.NewGuid().ToString("N"));
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var name in ListenerSettings.Defaults().Keys)
        {
            overrides[$"Listeners:{name}:Endpoint"] = "127.0.0.1:0";
        }

        foreach (var (key, value) in options.Configuration)
        {
            overrides[key] = value;
        }

        var settings = new ServeSettings(new ConfigurationInput(
            dataDirectory,
            Environment: new Dictionary<string, string?>(),
            Overrides: overrides))
        {
            StandaloneProcess = false,
            ConfigureServices = services =>
            {
                if (options.TimeProvider is { } time)
                {
                    services.RemoveAll<TimeProvider>();
                    services.AddSingleton(time);
                }

                options.ConfigureServices?.Invoke(services);
            },
        };

        try
        {
            return new PochtaTestServer(await ServerHost.StartAsync(settings, TextWriter.Null, TextWriter.Null, cancellationToken));
        }
        catch
        {
            DeleteDirectory(dataDirectory);
            throw;
        }
    }

    /// <summary>The bound loopback endpoint of the first live listener for <paramref name="protocol"/>.</summary>
    /// <exception cref="InvalidOperationException">No listener for it runs (its handler is not registered, or it is disabled).</exception>
    public IPEndPoint EndPoint(MailProtocol protocol) =>
        _server.Listeners.FirstOrDefault(l => l.Protocol == protocol)?.EndPoint
        ?? throw new InvalidOperationException($"No live {protocol} listener: is its protocol handler registered (Composition.AddPochtaProtocols) and the listener enabled?");

    /// <summary>The bound port of the first live listener for <paramref name="protocol"/>.</summary>
    public int Port(MailProtocol protocol) => EndPoint(protocol).Port;

    /// <summary>Creates an account (and its domain, if new) with the default mailboxes, as
    /// <c>pochta user add</c> does.</summary>
    public async Task<AccountInfo> CreateUserAsync(string address, string password, CancellationToken cancellationToken = default)
    {
        var parsed = EmailAddress.Parse(address);
        if (await Store.Directory.FindDomainAsync(parsed.Domain, cancellationToken) is null)
        {
            await Store.Directory.AddDomainAsync(parsed.Domain, cancellationToken);
        }

        return await Store.Directory.AddAccountAsync(parsed.Key, Credentials.Create(password), 0, cancellationToken);
    }

    /// <summary>The raw bytes of every message in the account's mailbox, in UID order.</summary>
    /// <exception cref="InvalidOperationException">The account or mailbox does not exist.</exception>
    public async Task<IReadOnlyList<byte[]>> ReadMailboxAsync(string address, string mailbox = "INBOX", CancellationToken cancellationToken = default)
    {
        var key = EmailAddress.Parse(address).Key;
        var account = await Store.Directory.FindAccountAsync(key, cancellationToken)
            ?? throw new InvalidOperationException($"No account {key}.");
        var box = await Store.Mailboxes.FindMailboxAsync(account.Id, mailbox, cancellationToken)
            ?? throw new InvalidOperationException($"No mailbox {mailbox} for {key}.");
        var result = new List<byte[]>();
        foreach (var entry in await Store.Mailboxes.ListMessagesAsync(box.Id, cancellationToken))
        {
            await using var stream = await Store.Messages.OpenMessageAsync(entry.MessageId, cancellationToken);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            result.Add(buffer.ToArray());
        }

        return result;
    }

    /// <summary>Stops the server gracefully (sessions finish their current command) and deletes the data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.DisposeAsync();
        }
        finally
        {
            DeleteDirectory(_server.DataDirectory);
        }
    }

    private static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a file still open by a dying session is removed by the OS temp cleaner.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}