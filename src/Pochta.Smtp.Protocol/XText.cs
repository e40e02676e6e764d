using System.Text;
using System.Text.Unicode;

namespace Pochta.Smtp.Protocol;

/// <summary>RFC 3461 §4 xtext: printable ASCII except <c>+</c> and <c>=</c>, which (and anything
/// else) appear as <c>+XX</c> with upper-case hex.</summary>
public static class XText
{
    /// <summary>Decodes xtext; false for a malformed escape or a character outside xchar.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> text, out string decoded)
    {
        decoded = "";
        var bytes = text.Length <= 256 ? stackalloc byte[text.Length] : new byte[text.Length];
        var n = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '+')
            {
                if (i + 2 >= text.Length)
                {
                    return false;
                }

                var hi = HexValue(text[i + 1]);
                var lo = HexValue(text[i + 2]);
                if (hi < 0 || lo < 0)
                {
                    return false;
                }

                bytes[n++] = (byte)((hi << 4) | lo);
                i += 2;
            }
            else if (c is >= 33 and <= 126 && c != '=')
            {
                bytes[n++] = c;
            }
            else
            {
                return false;
            }
        }

        if (!Utf8.IsValid(bytes[..n]))
        {
            return false;
        }

        decoded = Encoding.UTF8.GetString(bytes[..n]);
        return true;
    }

    public static string Encode(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= 33 and <= 126 && b != '+' && b != '=')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('+').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    // RFC 3461 §4: hexchar is "0"-"9" / "A"-"F" (upper case only).
    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}