using System.Data.Common;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

using Pochta.Configuration;
using Pochta.Delivery.Outbound;
using Pochta.Hosting;
using Pochta.Server;
using Pochta.Storage;

namespace Pochta;

/// <summary>
/// The admin commands' access to the store: opened directly (not through the server), so
/// they work whether the server runs or not; SQLite's WAL lets both use it at once.
/// </summary>
internal sealed class AdminContext : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private AdminContext(ServiceProvider services, PochtaConfigurationResult configuration, IMailStore store)
    {
        _services = services;
        Configuration = configuration;
        Store = store;
    }

    public PochtaConfigurationResult Configuration { get; }

    public IMailStore Store { get; }

    public IServiceProvider Services => _services;

    public static async Task<AdminContext> OpenAsync(ConfigurationInput input, CancellationToken cancellationToken)
    {
        var configuration = PochtaConfiguration.Build(input);
        var services = new ServiceCollection();
        services.AddPochtaCore(configuration.Root);
        var provider = services.BuildServiceProvider();
        try
        {
            StartupChecks.PrepareDataDirectory(configuration.DataDirectory);
            var store = provider.GetService<IMailStore>()
                ?? throw new StartupException("no storage backend is registered (Composition.AddPochtaCore)");
            try
            {
                await store.InitializeAsync(cancellationToken);
            }
            catch (Exception e) when (e is DbException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                throw new StartupException($"the store in {configuration.DataDirectory} cannot be opened ({e.Message.TrimEnd('.')})", e);
            }

            return new AdminContext(provider, configuration, store);
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

internal static class AdminOperations
{
    /// <summary>Creates the domain's DKIM keys (RSA-2048 and Ed25519) unless it has active
    /// ones; a no-op when <c>Outbound:DkimDirectory</c> is empty.</summary>
    public static async Task<IReadOnlyList<DkimKeyInfo>> EnsureDkimKeysAsync(IConfiguration configuration, string domain, CancellationToken cancellationToken)
    {
        var directory = configuration[OutboundOptions.Section + ":" + nameof(OutboundOptions.DkimDirectory)];
        if (string.IsNullOrEmpty(directory))
        {
            return [];
        }

        return await new DkimKeyStore(directory, TimeProvider.System).EnsureKeysAsync(domain, cancellationToken);
    }
}