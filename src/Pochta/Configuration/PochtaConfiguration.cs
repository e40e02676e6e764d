using System.Collections;
using System.Globalization;
using System.Text.Json;

using Microsoft.Extensions.Configuration;

using Pochta.Hosting;

namespace Pochta.Configuration;

/// <summary>Where the configuration comes from: the command line's view of it.</summary>
/// <param name="DataDirectory">As given with <c>--data</c> (made absolute by <see cref="PochtaConfiguration.Build"/>).</param>
/// <param name="ConfigFile"><c>--config FILE</c>; null means <c>DATA/pochta.json</c> if it exists.</param>
/// <param name="Sets"><c>--set KEY=VALUE</c> items, in order (later wins).</param>
/// <param name="Development"><c>serve --dev</c>: loopback listeners on the development ports.</param>
/// <param name="Environment">Variables to read <c>POCHTA__Section__Key</c> from; null reads the process environment.</param>
/// <param name="Overrides">Applied after every other source (the test fixture's overrides).</param>
internal sealed record ConfigurationInput(
    string DataDirectory,
    string? ConfigFile = null,
    IReadOnlyList<string>? Sets = null,
    bool Development = false,
    IReadOnlyDictionary<string, string?>? Environment = null,
    IReadOnlyDictionary<string, string?>? Overrides = null);

/// <summary>One key set by the operator, with the source that set it (for unknown-key reports).</summary>
internal sealed record ConfiguredKey(string Key, string Source);

/// <summary>The effective configuration and what the operator supplied.</summary>
internal sealed record PochtaConfigurationResult(IConfigurationRoot Root, string DataDirectory, string? ConfigFile, IReadOnlyList<ConfiguredKey> OperatorKeys);

/// <summary>
/// Builds the configuration every command uses. Sources, later ones winning: built-in
/// defaults → <c>pochta.json</c> (<c>--config</c> or the data directory) → environment
/// variables <c>POCHTA__Section__Key</c> → <c>--set Section:Key=value</c> → test overrides.
/// Reads files only; creates nothing.
/// </summary>
internal static class PochtaConfiguration
{
    public const string EnvironmentPrefix = "POCHTA__";
    public const string FileName = "pochta.json";

    public static PochtaConfigurationResult Build(ConfigurationInput input)
    {
        var dataDirectory = Path.GetFullPath(string.IsNullOrWhiteSpace(input.DataDirectory) ? "data" : input.DataDirectory);
        var builder = new ConfigurationBuilder();
        builder.AddInMemoryCollection(Defaults(dataDirectory, input.Development));
        var operatorKeys = new List<ConfiguredKey>();

        string? configFile = null;
        if (input.ConfigFile is { } explicitFile)
        {
            configFile = Path.GetFullPath(explicitFile);
            if (!File.Exists(configFile))
            {
                throw new StartupException($"configuration file not found: {configFile}");
            }
        }
        else
        {
            var candidate = Path.Combine(dataDirectory, FileName);
            if (File.Exists(candidate))
            {
                configFile = candidate;
            }
        }

        if (configFile is not null)
        {
            var fileValues = ReadJsonFile(configFile);
            builder.AddInMemoryCollection(fileValues);
            operatorKeys.AddRange(fileValues.Keys.Select(k => new ConfiguredKey(k, Path.GetFileName(configFile))));
        }

        var env = ReadEnvironment(input.Environment);
        builder.AddInMemoryCollection(env);
        operatorKeys.AddRange(env.Keys.Select(k => new ConfiguredKey(k, "environment")));

        var sets = ParseSets(input.Sets ?? []);
        builder.AddInMemoryCollection(sets);
        operatorKeys.AddRange(sets.Keys.Select(k => new ConfiguredKey(k, "--set")));

        if (input.Overrides is { Count: > 0 } overrides)
        {
            builder.AddInMemoryCollection(overrides);
        }

        return new PochtaConfigurationResult(builder.Build(), dataDirectory, configFile, operatorKeys);
    }

    /// <summary>Built-in defaults that depend on the command line (options classes hold the rest).</summary>
    public static Dictionary<string, string?> Defaults(string dataDirectory, bool development)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Outbound:DkimDirectory"] = Path.Combine(dataDirectory, "dkim"),
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        var listeners = development ? ListenerSettings.Development() : ListenerSettings.Defaults();
        foreach (var (name, settings) in listeners)
        {
            values[$"{ListenerSettings.Section}:{name}:Protocol"] = settings.Protocol.ToString();
            values[$"{ListenerSettings.Section}:{name}:Endpoint"] = settings.Endpoint;
            values[$"{ListenerSettings.Section}:{name}:Enabled"] = "true";
        }

        return values;
    }

    /// <summary>Reads a JSON configuration file into flat keys, reporting a syntax error with
    /// its position (the file is parsed once, with the same leniency as the JSON provider:
    /// comments and trailing commas).</summary>
    private static Dictionary<string, string?> ReadJsonFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"cannot read {path}: {e.Message}", e);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            var line = (e.LineNumber ?? 0) + 1;
            var column = (e.BytePositionInLine ?? 0) + 1;
            throw new StartupException(string.Create(CultureInfo.InvariantCulture, $"{path}: not valid JSON (line {line}, column {column}); fix or remove the file"), e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new StartupException($"{path}: the top level must be a JSON object");
            }

            var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            Flatten(document.RootElement, "", values, path);
            return values;
        }
    }

    private static void Flatten(JsonElement element, string prefix, Dictionary<string, string?> values, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var key = prefix.Length == 0 ? property.Name : prefix + ":" + property.Name;
                    Flatten(property.Value, key, values, path);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, prefix + ":" + index.ToString(CultureInfo.InvariantCulture), values, path);
                    index++;
                }

                break;
            case JsonValueKind.Null:
                values[prefix] = null;
                break;
            case JsonValueKind.String:
                SetOnce(values, prefix, element.GetString(), path);
                break;
            default:
                SetOnce(values, prefix, element.GetRawText(), path);
                break;
        }
    }

    private static void SetOnce(Dictionary<string, string?> values, string key, string? value, string path)
    {
        if (!values.TryAdd(key, value))
        {
            throw new StartupException($"{path}: the key {key} appears twice");
        }
    }

    private static Dictionary<string, string?> ReadEnvironment(IReadOnlyDictionary<string, string?>? given)
    {
        IEnumerable<KeyValuePair<string, string?>> source;
        if (given is not null)
        {
            source = given;
        }
        else
        {
            var list = new List<KeyValuePair<string, string?>>();
            foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
            {
                list.Add(new((string)entry.Key, entry.Value as string));
            }

            source = list;
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in source)
        {
            if (name.Length > EnvironmentPrefix.Length && name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                values[name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)] = value;
            }
        }

        return values;
    }

    private static Dictionary<string, string?> ParseSets(IReadOnlyList<string> sets)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in sets)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new StartupException("--set expects KEY=VALUE (for example --set Server:HostName=mail.example.com)");
            }

            values[item[..eq].Trim().Replace("__", ":", StringComparison.Ordinal)] = item[(eq + 1)..];
        }

        return values;
    }
}