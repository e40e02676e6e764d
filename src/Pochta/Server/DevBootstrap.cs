using System.Security.Cryptography;

using Pochta.Storage;

namespace Pochta.Server;

/// <summary>The demo account of <c>serve --dev</c>; <see cref="Password"/> is set only on the
/// start that created it (it is printed once and never stored in the clear).</summary>
internal sealed record DevAccount(string Address, string? Password);

/// <summary><c>serve --dev</c> on a fresh data directory: the domain <c>example.test</c>
/// and the account <c>demo@example.test</c> with a random password.</summary>
internal static class DevBootstrap
{
    public const string Domain = "example.test";
    public const string Address = "demo@example.test";

    private const string PasswordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    public static async Task<DevAccount> EnsureAsync(IMailStore store, Func<string, CancellationToken, Task> onDomainCreated, CancellationToken cancellationToken)
    {
        if (await store.Directory.FindDomainAsync(Domain, cancellationToken) is null)
        {
            await store.Directory.AddDomainAsync(Domain, cancellationToken);
            await onDomainCreated(Domain, cancellationToken);
        }

        if (await store.Directory.FindAccountAsync(Address, cancellationToken) is not null)
        {
            return new DevAccount(Address, null);
        }

        var password = RandomNumberGenerator.GetString(PasswordAlphabet, 16);
        await store.Directory.AddAccountAsync(Address, Credentials.Create(password), 0, cancellationToken);
        return new DevAccount(Address, password);
    }
}