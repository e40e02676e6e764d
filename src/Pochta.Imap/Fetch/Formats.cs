using System.Globalization;

namespace Pochta.Imap.Fetch;

internal static class Formats
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>RFC 9051 §9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" with a space-padded day.</summary>
    public static string DateTime(DateTimeOffset d)
    {
        var offset = d.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture, $"\"{d.Day,2}-{Months[d.Month - 1]}-{d.Year:D4} {d.Hour:D2}:{d.Minute:D2}:{d.Second:D2} {sign}{abs.Hours:D2}{abs.Minutes:D2}\"");
    }
}