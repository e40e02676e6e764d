using System.Text;

namespace Pochta.Mime;

/// <summary>Turns raw header bytes into strings without losing what was received.</summary>
internal static class HeaderText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes raw header bytes: UTF-8 when valid (RFC 6532), otherwise Latin-1 so that
    /// every octet survives (8-bit headers from legacy clients).</summary>
    public static string Decode(ReadOnlySpan<byte> raw)
    {
        if (System.Text.Unicode.Utf8.IsValid(raw))
        {
            return StrictUtf8.GetString(raw);
        }

        return Encoding.Latin1.GetString(raw);
    }

    /// <summary>The unfolded value (RFC 5322 §2.2.3: CRLF before WSP removed), with leading and
    /// trailing whitespace trimmed.</summary>
    public static string Unfold(ReadOnlySpan<byte> rawValue)
    {
        var text = Decode(rawValue);
        var span = text.AsSpan();
        if (span.IndexOfAny('\r', '\n') < 0)
        {
            return span.Trim().Length == span.Length ? text : span.Trim().ToString();
        }

        var sb = new StringBuilder(span.Length);
        foreach (var c in span)
        {
            if (c is not ('\r' or '\n'))
            {
                sb.Append(c);
            }
        }

        return sb.ToString().Trim();
    }

    /// <summary>Collapses runs of whitespace (including folding) to one space and trims.</summary>
    public static string CollapseWhitespace(ReadOnlySpan<char> text)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}