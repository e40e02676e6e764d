using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pochta.Storage.Sqlite;

public static class SqliteStoreServiceCollectionExtensions
{
    /// <summary>Registers the embedded SQLite store as the singleton <see cref="IMailStore"/>,
    /// with <see cref="SqliteStoreOptions"/> bound to the <c>Storage</c> section. The host must
    /// call <see cref="IMailStore.InitializeAsync"/> before any listener starts.</summary>
    public static IServiceCollection AddPochtaSqliteStore(this IServiceCollection services)
    {
        services.AddOptions<SqliteStoreOptions>()
            .BindConfiguration("Storage")
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), "Storage:DataDirectory must name a directory.")
            .Validate(o => o.SmallBlobThreshold is >= 4096 and <= 64 * 1024 * 1024, "Storage:SmallBlobThreshold must be between 4096 and 67108864.")
            .Validate(o => o.MaxBatchSize is >= 1 and <= 100_000, "Storage:MaxBatchSize must be between 1 and 100000.")
            .Validate(o => o.MaxIdleReadConnections is >= 1 and <= 1024, "Storage:MaxIdleReadConnections must be between 1 and 1024.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IMailStore>(sp => new SqliteMailStore(
            sp.GetRequiredService<IOptions<SqliteStoreOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SqliteMailStore>>()));
        return services;
    }
}