using System.Globalization;
using System.Text;

namespace Pochta.Sasl;

/// <summary>
/// SASLprep (RFC 4013), the stringprep profile SCRAM (RFC 5802 §2.2) and PLAIN (RFC 4616 §2)
/// apply to passwords. Mapping (§2.1), normalisation (§2.2, NFKC) and prohibited output (§2.3).
/// Limits: the bidirectional check (§2.4) is not applied, unassigned code points are allowed
/// (the "query" profile, RFC 3454 §7), and under InvariantGlobalization .NET's NFKC leaves
/// non-ASCII text unchanged; both sides of every comparison here use this same routine.
/// </summary>
internal static class SaslPrep
{
    /// <summary>The prepared string, or null when it contains prohibited output.</summary>
    public static string? Prepare(string value)
    {
        var ascii = true;
        foreach (var c in value)
        {
            if (c is < (char)0x20 or > (char)0x7E)
            {
                ascii = false;
                break;
            }
        }

        if (ascii)
        {
            return value;
        }

        var mapped = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (IsMappedToNothing(c))
            {
                continue;
            }

            mapped.Append(IsNonAsciiSpace(c) ? ' ' : c);
        }

        string normalized;
        try
        {
            normalized = mapped.ToString().Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            // Lone surrogates: prohibited by RFC 3454 C.5.
            return null;
        }

        for (var i = 0; i < normalized.Length; i++)
        {
            int codePoint;
            if (char.IsHighSurrogate(normalized[i]))
            {
                if (i + 1 >= normalized.Length || !char.IsLowSurrogate(normalized[i + 1]))
                {
                    return null;
                }

                codePoint = char.ConvertToUtf32(normalized[i], normalized[i + 1]);
                i++;
            }
            else if (char.IsLowSurrogate(normalized[i]))
            {
                return null;
            }
            else
            {
                codePoint = normalized[i];
            }

            if (IsProhibited(codePoint))
            {
                return null;
            }
        }

        return normalized;
    }

    // RFC 3454 B.1: commonly mapped to nothing.
    private static bool IsMappedToNothing(char c) =>
        c is '\u00AD' or '\u034F' or '\u1806' or (>= '\u180B' and <= '\u180D') or (>= '\u200B' and <= '\u200D')
            or '\u2060' or (>= '\uFE00' and <= '\uFE0F') or '\uFEFF';

    // RFC 3454 C.1.2: non-ASCII space characters, mapped to SPACE by RFC 4013 §2.1.
    private static bool IsNonAsciiSpace(char c) =>
        c is '\u00A0' or '\u1680' or (>= '\u2000' and <= '\u200B') or '\u202F' or '\u205F' or '\u3000';

    // RFC 4013 §2.3: C.1.2, C.2.1, C.2.2, C.3, C.4, C.5 (handled by the caller), C.6, C.7, C.8, C.9.
    private static bool IsProhibited(int cp)
    {
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
        {
            return true; // C.2.1, C.2.2
        }

        if (cp < 0xA0)
        {
            return false;
        }

        if (cp <= 0xFFFF && IsNonAsciiSpace((char)cp))
        {
            return true; // C.1.2
        }

        return cp switch
        {
            0x0340 or 0x0341 or 0x06DD or 0x070F or 0x180E or 0x200C or 0x200D or 0x200E or 0x200F
                or 0x2028 or 0x2029 or 0xFEFF => true,
            >= 0x202A and <= 0x202E => true, // C.8
            >= 0x2060 and <= 0x2063 => true, // C.2.2
            >= 0x206A and <= 0x206F => true, // C.2.2, C.8
            >= 0x2FF0 and <= 0x2FFB => true, // C.7
            >= 0xE000 and <= 0xF8FF => true, // C.3
            >= 0xFDD0 and <= 0xFDEF => true, // C.4
            >= 0xFFF9 and <= 0xFFFD => true, // C.2.2, C.6
            >= 0x1D173 and <= 0x1D17A => true, // C.2.2
            0xE0001 => true, // C.9
            >= 0xE0020 and <= 0xE007F => true, // C.9
            >= 0xF0000 and <= 0xFFFFD => true, // C.3
            >= 0x100000 and <= 0x10FFFD => true, // C.3
            _ => (cp & 0xFFFE) == 0xFFFE || CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.Surrogate, // C.4, C.5
        };
    }
}