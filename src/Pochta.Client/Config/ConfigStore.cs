using System.Text.Json;

using Pochta.Client.Cli;

namespace Pochta.Client.Config;

/// <summary>Reads and writes mail.json. Writes are atomic (temporary file, fsync, rename) and the
/// file is created owner-only (0600) since it may hold a password the user chose to store.</summary>
internal sealed class ConfigStore(string path)
{
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Path { get; } = path;

    /// <summary>--config, else $XDG_CONFIG_HOME/pochta/mail.json, else ~/.config/pochta/mail.json.</summary>
    public static string DefaultPath(ClientEnvironment environment)
    {
        var xdg = environment.GetVariable("XDG_CONFIG_HOME");
        var root = string.IsNullOrEmpty(xdg) ? System.IO.Path.Combine(environment.HomeDirectory, ".config") : xdg;
        return System.IO.Path.Combine(root, "pochta", "mail.json");
    }

    public async Task<MailConfig> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return new MailConfig();
        }

        try
        {
            await using var stream = File.OpenRead(Path);
            return await JsonSerializer.DeserializeAsync<MailConfig>(stream, JsonOptions, cancellationToken) ?? new MailConfig();
        }
        catch (JsonException e)
        {
            throw ClientException.Usage($"{Path}: not a valid configuration file ({e.Message})");
        }
    }

    public async Task SaveAsync(MailConfig config, CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var temporary = Path + ".tmp";
        await using (var stream = SecureFile.CreateOwnerOnly(temporary))
        {
            await JsonSerializer.SerializeAsync(stream, config, JsonOptions, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
    }
}