using Pochta.Client.Cli;

namespace Pochta.Client.Config;

/// <summary>Finds an account's password: POCHTA_MAIL_PASSWORD, then the account's password file
/// (refused unless mode 0600), then a password the user chose to store, then a prompt.</summary>
internal sealed class PasswordResolver(ClientEnvironment environment)
{
    public const string EnvironmentVariable = "POCHTA_MAIL_PASSWORD";

    private readonly Dictionary<string, string> _resolved = new(StringComparer.Ordinal);

    public async Task<string> GetAsync(AccountConfig account, CancellationToken cancellationToken)
    {
        if (_resolved.TryGetValue(account.Name, out var cached))
        {
            return cached;
        }

        var password = await ResolveAsync(account, cancellationToken);
        _resolved[account.Name] = password;
        return password;
    }

    private async Task<string> ResolveAsync(AccountConfig account, CancellationToken cancellationToken)
    {
        var fromEnvironment = environment.GetVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        if (account.PasswordFile is { } file)
        {
            return await ReadPasswordFileAsync(file, cancellationToken);
        }

        if (!string.IsNullOrEmpty(account.Password))
        {
            return account.Password;
        }

        var prompted = await environment.PromptSecret($"Password for {account.LoginName}:", cancellationToken);
        return string.IsNullOrEmpty(prompted)
            ? throw ClientException.Usage($"no password for account {account.Name}: set {EnvironmentVariable}, use --password-file, or run on a terminal")
            : prompted;
    }

    public static async Task<string> ReadPasswordFileAsync(string file, CancellationToken cancellationToken)
    {
        if (!File.Exists(file))
        {
            throw ClientException.Usage($"password file {file} does not exist");
        }

        if (!SecureFile.IsOwnerOnly(file))
        {
            throw ClientException.Usage($"password file {file} is readable by others: chmod 600 it");
        }

        var text = await File.ReadAllTextAsync(file, cancellationToken);

        // One line: a trailing newline (echo pw > file) is not part of the password.
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        var password = end < 0 ? text : text[..end];
        return password.Length == 0 ? throw ClientException.Usage($"password file {file} is empty") : password;
    }
}