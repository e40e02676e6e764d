using System.Globalization;
using System.Net;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Pochta.Configuration;
using Pochta.Core;
using Pochta.Hosting;
using Pochta.Storage;

namespace Pochta.Server;

/// <summary>How to start the server (the command line, or the test fixture).</summary>
internal sealed record ServeSettings(ConfigurationInput Configuration)
{
    /// <summary>Runs after the composition root: replace services (a FakeTimeProvider, a test DNS resolver).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>False for in-process use: no SIGINT/SIGTERM handling, no console logging.</summary>
    public bool StandaloneProcess { get; init; } = true;
}

/// <summary>A started server. Dispose to stop it gracefully.</summary>
internal sealed class RunningServer(WebApplication app, string dataDirectory, IReadOnlyList<ListenerInfo> listeners, DevAccount? devAccount) : IAsyncDisposable
{
    private int _disposed;

    public IServiceProvider Services => app.Services;

    public string DataDirectory => dataDirectory;

    public IReadOnlyList<ListenerInfo> Listeners => listeners;

    public DevAccount? DevAccount => devAccount;

    /// <summary>Completes when the host has been asked to stop (SIGTERM, Ctrl+C, StopAsync).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await app.StopAsync(CancellationToken.None);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }
}

/// <summary>
/// <c>pochta serve</c>: the Generic Host with Kestrel hosting every listener. Start-up order
/// (each failure is a <see cref="StartupException"/>, and nothing in the data directory is
/// created before step 7): 1 configuration (JSON syntax, unknown keys reported) → 2 binding
/// and validation of every section → 3 a configured certificate is loaded → 4 host built,
/// IStartupValidator (ValidateOnStart) → 5 handlers matched to listeners → 6 test bind of
/// every fixed port → 7 data directory created and probed → 8 self-signed certificate →
/// 9 store initialised → 10 dev bootstrap → 11 Kestrel started.
/// </summary>
internal static partial class ServerHost
{
    public static async Task<RunningServer> StartAsync(ServeSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // 1. Configuration.
        var config = PochtaConfiguration.Build(settings.Configuration);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "pochta",
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(config.Root);
        builder.Logging.ClearProviders();
        if (settings.StandaloneProcess)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.UseUtcTimestamp = true;
            });
            builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        }
        else
        {
            builder.Services.AddSingleton<IHostLifetime, InProcessLifetime>();
        }

        builder.Services.AddPochtaCore(builder.Configuration).AddPochtaServer();
        builder.Services.AddSingleton<ConnectionLimiter>();
        builder.Services.AddSingleton<ListenerTable>();
        settings.ConfigureServices?.Invoke(builder.Services);

        var schema = ConfigurationSchema.FromServices(builder.Services);
        foreach (var unknown in schema.FindUnknownKeys(config.OperatorKeys))
        {
            await error.WriteLineAsync($"pochta: warning: unknown configuration key {unknown.Key} ({unknown.Source}); it is ignored");
        }

        // 2. Every section binds and validates; listeners parse.
        schema.Validate(config.Root);
        var server = config.Root.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        var tls = config.Root.GetSection(TlsOptions.Section).Get<TlsOptions>() ?? new TlsOptions();
        var configured = ReadListeners(config.Root);

        // 3. A configured certificate must exist and load; the self-signed one waits for step 8.
        var certificateConfigured = !string.IsNullOrEmpty(tls.CertificatePath) || !string.IsNullOrEmpty(tls.KeyPath);
        var certificates = certificateConfigured ? CertificateStore.Load(tls, config.DataDirectory, server.HostName) : null;

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = server.ShutdownTimeout);
        builder.Services.Configure<SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = server.InlineScheduling);
        var plan = new List<PlannedListener>();

        // 4. The host; options validators registered with ValidateOnStart run now.
        var app = builder.Build();
        try
        {
            try
            {
                app.Services.GetService<IStartupValidator>()?.Validate();
            }
            catch (OptionsValidationException e)
            {
                throw new StartupException("invalid configuration: " + string.Join("; ", e.Failures), e);
            }

            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Pochta.Server");
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();

            // 5. Match listeners to protocol handlers.
            var handlers = app.Services.GetServices<IMailProtocolHandler>().ToList();
            foreach (var (name, listener, endPoint) in configured)
            {
                if (listener.Protocol == MailProtocol.Http)
                {
                    plan.Add(new PlannedListener(name, listener.Protocol, endPoint, null));
                    continue;
                }

                // As with DI's own single-service resolution, the last registration wins (tests replace handlers).
                var handler = handlers.LastOrDefault(h => h.Protocols.Contains(listener.Protocol));
                if (handler is null)
                {
                    LogSkipped(logger, name, listener.Protocol, StartupChecks.Format(endPoint));
                    continue;
                }

                plan.Add(new PlannedListener(name, listener.Protocol, endPoint, handler));
            }

            if (plan.Count == 0)
            {
                throw new StartupException("no listener to start: every listener is disabled or has no protocol handler (see Listeners in pochta config show)");
            }

            // Kestrel's options object is created with the server (at Build); listen options
            // added before StartAsync are bound by it.
            var kestrel = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
            foreach (var entry in plan)
            {
                kestrel.Listen(entry.EndPoint, listen =>
                {
                    entry.Options = listen;
                    if (entry.Protocol == MailProtocol.Http)
                    {
                        listen.Protocols = HttpProtocols.Http1;
                    }
                    else
                    {
                        listen.Run(entry.DispatchAsync);
                    }
                });
            }

            // 6. Fixed ports are free and allowed.
            StartupChecks.CheckPorts(plan.Select(p => (p.Name, p.EndPoint)));

            // 7. The data directory.
            StartupChecks.PrepareDataDirectory(config.DataDirectory);

            // 8. The self-signed certificate, generated once.
            certificates ??= CertificateStore.Load(tls, config.DataDirectory, server.HostName);
            if (certificates.Generated)
            {
                LogCertificateGenerated(logger, server.HostName, Path.Combine(config.DataDirectory, "tls"));
            }

            // 9. The store (migrations, crash recovery) before any listener accepts.
            var store = app.Services.GetService<IMailStore>()
                ?? throw new StartupException("no storage backend is registered (Composition.AddPochtaCore)");
            try
            {
                await store.InitializeAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException and not StartupException)
            {
                throw new StartupException($"the store in {config.DataDirectory} cannot be opened ({e.Message.TrimEnd('.')})", e);
            }

            // 10. serve --dev on a fresh data directory.
            DevAccount? devAccount = null;
            if (settings.Configuration.Development)
            {
                devAccount = await DevBootstrap.EnsureAsync(
                    store,
                    (domain, ct) => AdminOperations.EnsureDkimKeysAsync(config.Root, domain, ct),
                    cancellationToken);
            }

            // 11. Kestrel.
            MapHttp(app);
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                throw new StartupException($"a listener could not be bound ({e.Message.TrimEnd('.')}); see Listeners in pochta config show", e);
            }

            var limiter = app.Services.GetRequiredService<ConnectionLimiter>();
            var live = new List<ListenerInfo>();
            foreach (var entry in plan)
            {
                var bound = entry.Options?.IPEndPoint ?? entry.EndPoint;
                var info = new ListenerInfo(entry.Name, entry.Protocol, ListenerSettings.IsImplicitTls(entry.Protocol), bound);
                live.Add(info);
                if (entry.Handler is not null)
                {
                    entry.Activate(new MailListenerHandler(info, entry.Handler, certificates, limiter, server, logger, lifetime.ApplicationStopping));
                }
            }

            app.Services.GetRequiredService<ListenerTable>().Publish(live);
            foreach (var entry in plan)
            {
                entry.Open();
            }

            if (!settings.Configuration.Development)
            {
                foreach (var info in live)
                {
                    await output.WriteLineAsync($"pochta: listening on {StartupChecks.Format(info.EndPoint)} ({info.Name}, {info.Protocol})");
                }
            }
            else
            {
                await DevBanner.WriteAsync(output, config.DataDirectory, live, devAccount!);
            }

            return new RunningServer(app, config.DataDirectory, live, devAccount);
        }
        catch
        {
            foreach (var entry in plan)
            {
                entry.Cancel();
            }

            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The enabled listeners of the configuration, validated (a bad entry is a
    /// <see cref="StartupException"/> naming its key), in name order.</summary>
    internal static List<(string Name, ListenerSettings Settings, IPEndPoint EndPoint)> ReadListeners(IConfiguration configuration)
    {
        var result = new List<(string, ListenerSettings, IPEndPoint)>();
        foreach (var child in configuration.GetSection(ListenerSettings.Section).GetChildren().OrderBy(c => c.Key, StringComparer.OrdinalIgnoreCase))
        {
            ListenerSettings settings;
            try
            {
                settings = child.Get<ListenerSettings>() ?? new ListenerSettings();
            }
            catch (InvalidOperationException e)
            {
                throw ConfigurationSchema.BinderError(e, child.Path);
            }

            if (!settings.Enabled)
            {
                continue;
            }

            if (!child.GetChildren().Any(c => string.Equals(c.Key, "Protocol", StringComparison.OrdinalIgnoreCase)))
            {
                throw new StartupException($"Listeners:{child.Key}:Protocol is required ({string.Join(", ", Enum.GetNames<MailProtocol>())})");
            }

            if (!ListenerSettings.TryParseEndpoint(settings.Endpoint, out var endPoint))
            {
                throw new StartupException($"invalid configuration value for Listeners:{child.Key}:Endpoint (expected *:PORT, ADDRESS:PORT or [IPv6]:PORT)");
            }

            result.Add((child.Key, settings, endPoint));
        }

        return result;
    }

    private static void MapHttp(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n", "text/plain"));
        app.MapGet("/mail/config-v1.1.xml", AutoconfigAsync);
        app.MapGet("/.well-known/autoconfig/mail/config-v1.1.xml", AutoconfigAsync);
    }

    /// <summary>Thunderbird passes <c>?emailaddress=</c>: a local domain gets its own document;
    /// another domain gets 404 (the client then tries other methods). Input is never echoed.</summary>
    private static async Task<IResult> AutoconfigAsync(HttpContext context, IMailStore store, ListenerTable table, IOptions<ServerOptions> options)
    {
        var domains = (await store.Directory.ListDomainsAsync(context.RequestAborted)).Select(d => d.Name).ToList();
        if (context.Request.Query.TryGetValue("emailaddress", out var values) && values.Count > 0)
        {
            if (!EmailAddress.TryParse(values[0], out var address) || !domains.Contains(address.Domain, StringComparer.OrdinalIgnoreCase))
            {
                return Results.NotFound();
            }

            domains = [address.Domain];
        }

        return Results.Text(Autoconfig.Build(options.Value.HostName, domains, table.Listeners), "application/xml; charset=utf-8");
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Listener {Name} ({Protocol}, {Endpoint}) skipped: no protocol handler for {Protocol} is registered")]
    private static partial void LogSkipped(ILogger logger, string name, MailProtocol protocol, string endpoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Generated a self-signed certificate for {HostName} in {Directory}")]
    private static partial void LogCertificateGenerated(ILogger logger, string hostName, string directory);

    /// <summary>One listener to bind. Connections accepted before the listener table is
    /// published wait for it, so every session sees its listener's bound endpoint.</summary>
    private sealed class PlannedListener(string name, MailProtocol protocol, IPEndPoint endPoint, IMailProtocolHandler? handler)
    {
        private readonly TaskCompletionSource<MailListenerHandler> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private MailListenerHandler? _handler;

        public string Name => name;

        public MailProtocol Protocol => protocol;

        public IPEndPoint EndPoint => endPoint;

        public IMailProtocolHandler? Handler => handler;

        public ListenOptions? Options { get; set; }

        public void Activate(MailListenerHandler listenerHandler) => _handler = listenerHandler;

        public void Open()
        {
            if (_handler is not null)
            {
                _ready.TrySetResult(_handler);
            }
        }

        public void Cancel() => _ready.TrySetCanceled();

        public async Task DispatchAsync(ConnectionContext context)
        {
            MailListenerHandler listenerHandler;
            try
            {
                listenerHandler = await _ready.Task.WaitAsync(context.ConnectionClosed);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await listenerHandler.OnConnectedAsync(context);
        }
    }

    /// <summary>In-process hosts (tests) neither hook process signals nor print lifetime messages.</summary>
    private sealed class InProcessLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}