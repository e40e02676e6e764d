using Xunit;

namespace Pochta.Testing;

/// <summary>A fact that needs an external program (a Debian client that CI installs). On a
/// machine with only the .NET SDK it is reported as skipped, with the reason.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(params string[] tools)
    {
        var missing = tools.Where(t => !Tool.Exists(t)).ToArray();
        if (missing.Length > 0)
        {
            Skip = "not installed: " + string.Join(", ", missing) + " (CI installs it; see .ci/run)";
        }
    }
}

public static class Tool
{
    /// <summary>Full path of a program found on PATH, or null.</summary>
    public static string? Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (var dir in new[] { "/usr/sbin", "/usr/lib/postfix/sbin", "/usr/lib/dovecot" })
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static bool Exists(string name) => Find(name) is not null;
}