using System.Globalization;

namespace Pochta.LoadGen.Common;

internal static class Pattern
{
    /// <summary>Replaces "{n}" in a user or address pattern with the index.</summary>
    public static string Expand(string pattern, int index) =>
        pattern.Replace("{n}", index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>As <see cref="Expand(string, int)"/>, and "{k}" becomes index mod domains
    /// (recipients spread round-robin over domains 0..domains-1).</summary>
    public static string Expand(string pattern, int index, int domains) =>
        Expand(pattern, index).Replace("{k}", (index % Math.Max(1, domains)).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}