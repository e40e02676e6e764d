using System.Globalization;

namespace Pochta.Delivery.Outbound;

/// <summary>Stored reply strings: <c>"550 5.1.1 text"</c> — a three-digit code, an optional
/// RFC 3463 enhanced status code, then text. Replies we synthesise (connection failures,
/// null MX, expiry) use the same shape so the DSN builder treats them alike.</summary>
public static class SmtpReplyText
{
    public static string Format(int code, string text) =>
        code.ToString(CultureInfo.InvariantCulture) + " " + Sanitize(text);

    /// <summary>Remote reply texts end up in headers and logs: keep them on one line, printable.</summary>
    public static string Sanitize(string text)
    {
        var span = text.AsSpan().Trim();
        if (span.Length > 400)
        {
            span = span[..400];
        }

        return string.Create(span.Length, span.ToString(), static (dest, src) =>
        {
            for (var i = 0; i < src.Length; i++)
            {
                var c = src[i];
                dest[i] = c < 0x20 || c == 0x7f ? ' ' : c;
            }
        });
    }

    /// <summary>The basic reply code, or 0.</summary>
    public static int GetCode(string? reply) =>
        reply is { Length: >= 3 } && int.TryParse(reply.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            ? code
            : 0;

    /// <summary>The RFC 3463 status from the reply's enhanced code, else derived from its class
    /// (2.0.0 / 4.0.0 / 5.0.0).</summary>
    public static string GetStatus(string? reply, string fallback = "4.0.0")
    {
        if (reply is { Length: > 4 })
        {
            var rest = reply.AsSpan(4);
            var end = rest.IndexOf(' ');
            var word = end < 0 ? rest : rest[..end];
            if (IsEnhancedStatus(word))
            {
                return word.ToString();
            }
        }

        return GetCode(reply) switch
        {
            >= 200 and < 300 => "2.0.0",
            >= 400 and < 500 => "4.0.0",
            >= 500 and < 600 => "5.0.0",
            _ => fallback,
        };
    }

    /// <summary>RFC 3463 §2: class "." subject "." detail, class 2/4/5, subject 1-3 digits, detail 1-3 digits.</summary>
    public static bool IsEnhancedStatus(ReadOnlySpan<char> word)
    {
        if (word.Length < 5 || word[0] is not ('2' or '4' or '5') || word[1] != '.')
        {
            return false;
        }

        var rest = word[2..];
        var dot = rest.IndexOf('.');
        return dot is >= 1 and <= 3 && AllDigits(rest[..dot]) && rest.Length - dot - 1 is >= 1 and <= 3 && AllDigits(rest[(dot + 1)..]);
    }

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}