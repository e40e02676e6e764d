using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pochta.LoadGen.Common;

/// <summary>
/// The result of one run: an ordered list of named figures printed as one summary line
/// (<c>key=value ...</c>) or as one JSON object with <c>--json</c>.
/// </summary>
internal sealed class Summary(string mode)
{
    private readonly List<(string Key, object Value)> fields = [("mode", mode)];

    public Summary Add(string key, object value)
    {
        fields.Add((key, value));
        return this;
    }

    public Summary Add(string prefix, Percentiles p) =>
        Add(prefix + "_p50_ms", Math.Round(p.P50Ms, 3))
        .Add(prefix + "_p90_ms", Math.Round(p.P90Ms, 3))
        .Add(prefix + "_p99_ms", Math.Round(p.P99Ms, 3))
        .Add(prefix + "_max_ms", Math.Round(p.MaxMs, 3));

    public void Print(bool json)
    {
        if (json)
        {
            using var stream = Console.OpenStandardOutput();
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                foreach (var (key, value) in fields)
                {
                    switch (value)
                    {
                        case string s: writer.WriteString(key, s); break;
                        case int i: writer.WriteNumber(key, i); break;
                        case long l: writer.WriteNumber(key, l); break;
                        case double d: writer.WriteNumber(key, d); break;
                        case bool b: writer.WriteBoolean(key, b); break;
                        default: writer.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
                    }
                }

                writer.WriteEndObject();
            }

            stream.Write("\n"u8);
            return;
        }

        var line = new StringBuilder();
        foreach (var (key, value) in fields)
        {
            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
        }

        Console.WriteLine(line.ToString());
    }
}