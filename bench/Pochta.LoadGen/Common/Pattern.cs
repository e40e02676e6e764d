using System.Globalization;

namespace Pochta.LoadGen.Common;

internal static class Pattern
{
    /// <summary>Replaces "{n}" in a user or address pattern with the index.</summary>
    public static string Expand(string pattern, int index) =>
        pattern.Replace("{n}", index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}