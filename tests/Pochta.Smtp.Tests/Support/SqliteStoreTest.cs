using Microsoft.Extensions.Time.Testing;

using Pochta.Sasl;
using Pochta.Storage;
using Pochta.Storage.Sqlite;

namespace Pochta.Smtp.Tests.Support;

/// <summary>Base of the test classes that run SMTP sessions on the real SqliteMailStore (WAL,
/// fsync, group commit) with the real Authenticator: a fresh store in a temporary directory with
/// the domain example.org, seeded by the derived class, removed afterwards.</summary>
public abstract class SqliteStoreTest : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pochta-smtp-" + Guid.NewGuid().ToString("N"));

    private protected SqliteMailStore Store { get; private set; } = null!;

    private protected Authenticator Auth { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _directory }, new FakeTimeProvider(DateTimeOffset.UtcNow));
        await Store.InitializeAsync(CancellationToken.None);
        Auth = new Authenticator(Store);
        await Store.Directory.AddDomainAsync("example.org", CancellationToken.None);
        await SeedAsync(Store.Directory, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Accounts and aliases of the test class.</summary>
    private protected abstract Task SeedAsync(IDirectoryStore directory, CancellationToken cancellationToken);

    private protected static string Credential(string password, int iterations = 4096) => PasswordCredential.Create(password, iterations);
}