using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

using Pochta.Configuration;
using Pochta.Delivery.Outbound;
using Pochta.Hosting;
using Pochta.Mime;
using Pochta.Sasl;
using Pochta.Storage.Sqlite;

namespace Pochta;

/// <summary>
/// The composition root: the only place that names concrete backends. <see cref="AddPochtaCore"/>
/// is what the admin commands need (store and credentials); <see cref="AddPochtaServer"/> adds
/// what <c>serve</c> runs (MIME indexing, outbound queue, protocol handlers).
/// </summary>
internal static class Composition
{
    /// <summary>Sections the host knows without a DI registration carrying a <c>Section</c>
    /// constant (see <see cref="ConfigurationSchema"/>). Options types registered with
    /// <c>AddOptions&lt;T&gt;().BindConfiguration(T.Section)</c> are found automatically;
    /// add an entry here only for one without a <c>public const string Section</c>.</summary>
    public static IReadOnlyList<Configuration.ConfigurationSection> ConfigurationSections { get; } =
    [
        new(ServerOptions.Section, typeof(ServerOptions)),
        new(TlsOptions.Section, typeof(TlsOptions)),
        new(ListenerSettings.Section, typeof(Dictionary<string, ListenerSettings>)),
        new(OutboundOptions.Section, typeof(OutboundOptions)),
        new("Storage", typeof(SqliteStoreOptions)),
    ];

    /// <summary>Store, credentials, server-wide options: shared by <c>serve</c> and the admin CLI.</summary>
    public static IServiceCollection AddPochtaCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(configuration);
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TlsOptions>().BindConfiguration(TlsOptions.Section);
        services.AddPochtaStorageBackend();
        return services;
    }

    /// <summary>Everything <c>serve</c> runs on top of <see cref="AddPochtaCore"/>.</summary>
    public static IServiceCollection AddPochtaServer(this IServiceCollection services)
    {
        services.AddPochtaMime();
        services.AddPochtaOutbound();
        services.AddPochtaProtocols();
        return services;
    }

    /// <summary>The storage backend and the authenticator built on it.</summary>
    private static IServiceCollection AddPochtaStorageBackend(this IServiceCollection services)
    {
        services.AddPochtaSqliteStore();   // IMailStore, binds "Storage" (SqliteStoreOptions)
        services.AddPochtaSasl();          // IAuthenticator over the store
        return services;
    }

    // ────────────────────────────────────────────────────────────────────────────────────
    // PROTOCOL REGISTRATIONS — the one place the lead wires the protocol projects.
    // Each call registers its options (section with ValidateOnStart) and a singleton
    // IMailProtocolHandler; `serve` starts every configured listener whose protocol has a
    // handler and skips the others with an info line. Nothing else needs to change.
    // ────────────────────────────────────────────────────────────────────────────────────
    private static IServiceCollection AddPochtaProtocols(this IServiceCollection services)
    {
        Pochta.Delivery.Inbound.InboundServiceCollectionExtensions.AddPochtaInbound(services); // recipient resolution, local delivery
        Pochta.Smtp.SmtpServiceCollectionExtensions.AddPochtaSmtp(services);                   // Smtp, Submission, Submissions
        Pochta.Imap.ImapServiceCollectionExtensions.AddPochtaImap(services);                   // Imap, Imaps
        Pochta.Pop3.Pop3ServiceCollectionExtensions.AddPochtaPop3(services);                   // Pop3, Pop3s
        return services;
    }
}