using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using Pochta.Hosting;

namespace Pochta.Configuration;

/// <summary>A configuration section and the options type bound to it.</summary>
internal sealed record ConfigurationSection(string Name, Type OptionsType);

/// <summary>
/// What configuration keys exist. Sections come from <see cref="Composition.ConfigurationSections"/>
/// plus every options type registered in DI (<c>AddOptions&lt;T&gt;().BindConfiguration(...)</c>)
/// that declares <c>public const string Section</c>. Used to report unknown keys, to bind
/// and validate every section before anything starts, and to print <c>config show</c>.
/// </summary>
internal sealed class ConfigurationSchema
{
    /// <summary>Sections whose keys are not checked (framework-owned).</summary>
    private static readonly HashSet<string> FreeSections = new(StringComparer.OrdinalIgnoreCase) { "Logging" };

    private static readonly string[] SecretWords = ["password", "secret", "token", "privatekey", "keypath", "credential", "apikey"];

    private ConfigurationSchema(IReadOnlyList<ConfigurationSection> sections) => Sections = sections;

    public IReadOnlyList<ConfigurationSection> Sections { get; }

    public static ConfigurationSchema FromServices(IServiceCollection services)
    {
        var sections = new List<ConfigurationSection>(Composition.ConfigurationSections);
        foreach (var descriptor in services)
        {
            var type = descriptor.ServiceType;
            if (!type.IsGenericType)
            {
                continue;
            }

            var definition = type.GetGenericTypeDefinition();
            if (definition != typeof(IConfigureOptions<>) && definition != typeof(IOptionsChangeTokenSource<>))
            {
                continue;
            }

            var optionsType = type.GetGenericArguments()[0];
            if (SectionOf(optionsType) is { } name && !sections.Exists(s => s.OptionsType == optionsType))
            {
                sections.Add(new ConfigurationSection(name, optionsType));
            }
        }

        return new ConfigurationSchema(sections);
    }

    private static string? SectionOf(Type optionsType) =>
        optionsType.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && field.GetRawConstantValue() is string s ? s : null;

    /// <summary>Keys the operator set that no section knows, each with its source.</summary>
    public IReadOnlyList<ConfiguredKey> FindUnknownKeys(IEnumerable<ConfiguredKey> keys) =>
        keys.Where(k => !IsKnown(k.Key)).DistinctBy(k => k.Key, StringComparer.OrdinalIgnoreCase).ToList();

    public bool IsKnown(string key)
    {
        var parts = key.Split(':');
        if (FreeSections.Contains(parts[0]))
        {
            return true;
        }

        var section = Sections.FirstOrDefault(s => string.Equals(s.Name, parts[0], StringComparison.OrdinalIgnoreCase));
        return section is not null && Accepts(section.OptionsType, parts.AsSpan(1));
    }

    private static bool Accepts(Type type, ReadOnlySpan<string> path)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsLeaf(type))
        {
            return path.IsEmpty;
        }

        if (path.IsEmpty)
        {
            // A section or object given as a whole (e.g. an empty JSON object or null).
            return true;
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            return Accepts(valueType, path[1..]);
        }

        if (ElementType(type) is { } elementType)
        {
            return int.TryParse(path[0], NumberStyles.None, CultureInfo.InvariantCulture, out _) && Accepts(elementType, path[1..]);
        }

        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is { CanRead: true } && Accepts(property.PropertyType, path[1..]);
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid);

    /// <summary>Options objects worth walking into (not framework types such as IPAddress).</summary>
    private static bool IsOurs(Type type) => type.Namespace?.StartsWith("Pochta", StringComparison.Ordinal) == true;

    private static Type? DictionaryValueType(Type type)
    {
        foreach (var candidate in type.GetInterfaces().Append(type))
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() is var d
                && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)) && candidate.GetGenericArguments()[0] == typeof(string))
            {
                return candidate.GetGenericArguments()[1];
            }
        }

        return null;
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        foreach (var candidate in type.GetInterfaces().Append(type))
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                return candidate.GetGenericArguments()[0];
            }
        }

        return null;
    }

    /// <summary>Binds and validates every section (DataAnnotations, recursively for nested
    /// objects), so a bad value stops the start with one line naming the key.</summary>
    public void Validate(IConfiguration configuration)
    {
        foreach (var section in Sections)
        {
            var bound = Bind(configuration, section);
            ValidateObject(bound, section.Name);
        }
    }

    /// <summary>The section's options object as bound (defaults where nothing is set).</summary>
    public static object Bind(IConfiguration configuration, ConfigurationSection section)
    {
        try
        {
            return configuration.GetSection(section.Name).Get(section.OptionsType)
                ?? Activator.CreateInstance(section.OptionsType)
                ?? throw new StartupException($"{section.Name}: cannot create {section.OptionsType.Name}");
        }
        catch (InvalidOperationException e)
        {
            throw BinderError(e, section.Name);
        }
    }

    /// <summary>The binder's conversion failure as one line naming the key:
    /// "Failed to convert configuration value 'x' at 'Server:MaxConnectionsPerIp' to type 'System.Int32'."</summary>
    public static StartupException BinderError(InvalidOperationException e, string fallbackKey)
    {
        var message = e.Message;
        var key = fallbackKey;
        var at = message.IndexOf(" at '", StringComparison.Ordinal);
        if (at >= 0)
        {
            var end = message.IndexOf('\'', at + 5);
            if (end > at + 5)
            {
                key = message[(at + 5)..end];
            }
        }

        var toType = message.LastIndexOf("to type '", StringComparison.Ordinal);
        var target = toType < 0 ? null : message[(toType + 9)..].TrimEnd('\'', '.', ' ');
        return new StartupException(target is null ? $"invalid configuration value for {key}" : $"invalid configuration value for {key} (expected {FriendlyTypeName(target)})", e);
    }

    private static string FriendlyTypeName(string clrName) => clrName switch
    {
        "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt32" or "System.UInt64" => "an integer",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a time span such as 00:05:00",
        _ when clrName.StartsWith("Pochta.Core.MailProtocol", StringComparison.Ordinal) => string.Join(", ", Enum.GetNames<Core.MailProtocol>()),
        _ => clrName[(clrName.LastIndexOf('.') + 1)..],
    };

    private static void ValidateObject(object instance, string path)
    {
        if (instance is IDictionary or IEnumerable)
        {
            ValidateMembers(instance, path);
            return;
        }

        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true))
        {
            var first = results[0];
            var member = first.MemberNames.FirstOrDefault();
            throw new StartupException($"invalid configuration value for {(member is null ? path : path + ":" + member)}: {first.ErrorMessage}");
        }

        foreach (var property in instance.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || IsLeaf(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType))
            {
                continue;
            }

            if (property.GetValue(instance) is { } value && (value is IEnumerable || IsOurs(value.GetType())))
            {
                ValidateMembers(value, path + ":" + property.Name);
            }
        }
    }

    private static void ValidateMembers(object value, string path)
    {
        switch (value)
        {
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (entry.Value is { } item && !IsLeaf(item.GetType()))
                    {
                        ValidateObject(item, $"{path}:{entry.Key}");
                    }
                }

                break;
            case string:
                break;
            case IEnumerable sequence:
                var index = 0;
                foreach (var item in sequence)
                {
                    if (item is not null && !IsLeaf(item.GetType()))
                    {
                        ValidateObject(item, string.Create(CultureInfo.InvariantCulture, $"{path}:{index}"));
                    }

                    index++;
                }

                break;
            default:
                ValidateObject(value, path);
                break;
        }
    }

    /// <summary>The effective value of every key of every known section (options defaults
    /// included), secrets masked, sorted by key; then operator keys of free sections.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Describe(IConfiguration configuration)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var section in Sections.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var bound = Bind(configuration, section);
            FlattenObject(bound, section.Name, result, depth: 0);
        }

        foreach (var free in FreeSections.Order(StringComparer.Ordinal))
        {
            foreach (var (key, value) in configuration.GetSection(free).AsEnumerable().Where(kv => kv.Value is not null).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                result.Add(new(key, IsSecret(key) ? Mask(value) : value!));
            }
        }

        return result;
    }

    private static void FlattenObject(object? value, string path, List<KeyValuePair<string, string>> into, int depth)
    {
        if (depth > 8)
        {
            return;
        }

        switch (value)
        {
            case null:
                into.Add(new(path, ""));
                return;
            case var leaf when IsLeaf(leaf.GetType()):
                var text = Convert.ToString(leaf, CultureInfo.InvariantCulture) ?? "";
                into.Add(new(path, IsSecret(path) ? Mask(text) : text));
                return;
            case IDictionary dictionary:
                foreach (var key in dictionary.Keys.Cast<object>().OrderBy(k => k.ToString(), StringComparer.Ordinal))
                {
                    FlattenObject(dictionary[key], path + ":" + key, into, depth + 1);
                }

                return;
            case IEnumerable sequence:
                var index = 0;
                foreach (var item in sequence)
                {
                    FlattenObject(item, string.Create(CultureInfo.InvariantCulture, $"{path}:{index++}"), into, depth + 1);
                }

                return;
        }

        if (!IsOurs(value.GetType()))
        {
            into.Add(new(path, Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
            return;
        }

        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (property.GetIndexParameters().Length == 0 && property.CanRead)
            {
                FlattenObject(property.GetValue(value), path + ":" + property.Name, into, depth + 1);
            }
        }
    }

    public static bool IsSecret(string key)
    {
        var last = key[(key.LastIndexOf(':') + 1)..];
        return SecretWords.Any(w => last.Contains(w, StringComparison.OrdinalIgnoreCase));
    }

    private static string Mask(string? value) => string.IsNullOrEmpty(value) ? "" : "********";
}