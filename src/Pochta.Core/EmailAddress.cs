using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Pochta.Core;

/// <summary>
/// An RFC 5321 mailbox (<c>Local-part@Domain</c>). The domain is normalised to lower case;
/// the local part keeps its case for display but compares case-insensitively, as every
/// mailbox Pochta hosts is case-insensitive (RFC 5321 §2.4 leaves this to the host).
/// </summary>
public sealed class EmailAddress : IEquatable<EmailAddress>
{
    /// <summary>RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.</summary>
    public const int MaxLocalPartLength = 64;

    /// <summary>RFC 5321 §4.5.3.1.2: a domain is at most 255 octets.</summary>
    public const int MaxDomainLength = 255;

    private EmailAddress(string localPart, string domain)
    {
        LocalPart = localPart;
        Domain = domain;
    }

    public string LocalPart { get; }

    /// <summary>Lower-case domain (A-label or U-label as received).</summary>
    public string Domain { get; }

    public override string ToString() => LocalPart + "@" + Domain;

    /// <summary>The address with any <c>+tag</c> removed from the local part (plus-addressing).</summary>
    public EmailAddress WithoutTag(char separator = '+')
    {
        var i = LocalPart.IndexOf(separator, StringComparison.Ordinal);
        return i <= 0 ? this : new EmailAddress(LocalPart[..i], Domain);
    }

    public static EmailAddress Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException("Not a valid mailbox address.");

    /// <summary>
    /// Parses <c>local@domain</c> (dot-atom or quoted-string local part, RFC 5321 §4.1.2;
    /// UTF-8 allowed per RFC 6531). No angle brackets, no comments.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out EmailAddress? address)
    {
        address = null;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            return false;
        }

        var local = text.AsSpan(0, at);
        var domain = text.AsSpan(at + 1);
        if (!IsValidLocalPart(local) || !IsValidDomain(domain))
        {
            return false;
        }

        address = new EmailAddress(local.ToString(), domain.ToString().ToLowerInvariant());
        return true;
    }

    public static bool IsValidDomain(ReadOnlySpan<char> domain)
    {
        if (domain.IsEmpty || Encoding.UTF8.GetByteCount(domain) > MaxDomainLength)
        {
            return false;
        }

        // Address literal, RFC 5321 §4.1.3.
        if (domain[0] == '[')
        {
            return domain.Length > 2 && domain[^1] == ']' && !domain[1..^1].ContainsAny("[]\\ ");
        }

        var labelLength = 0;
        var previous = '.';
        foreach (var c in domain)
        {
            if (c == '.')
            {
                if (labelLength == 0 || previous == '-')
                {
                    return false;
                }

                labelLength = 0;
            }
            else
            {
                var ok = char.IsAsciiLetterOrDigit(c) || c == '-' || c > 0x7f;
                if (!ok || (labelLength == 0 && c == '-') || ++labelLength > 63)
                {
                    return false;
                }
            }

            previous = c;
        }

        return labelLength > 0 && previous != '-';
    }

    public static bool IsValidLocalPart(ReadOnlySpan<char> local)
    {
        if (local.IsEmpty || Encoding.UTF8.GetByteCount(local) > MaxLocalPartLength)
        {
            return false;
        }

        if (local[0] == '"')
        {
            if (local.Length < 2 || local[^1] != '"')
            {
                return false;
            }

            var inner = local[1..^1];
            for (var i = 0; i < inner.Length; i++)
            {
                var c = inner[i];
                if (c == '\\')
                {
                    if (++i >= inner.Length || inner[i] < 0x20 || inner[i] == 0x7f)
                    {
                        return false;
                    }
                }
                else if (c == '"' || c < 0x20 || c == 0x7f)
                {
                    return false;
                }
            }

            return true;
        }

        var previousDot = true;
        foreach (var c in local)
        {
            if (c == '.')
            {
                if (previousDot)
                {
                    return false;
                }

                previousDot = true;
                continue;
            }

            if (!IsAtext(c))
            {
                return false;
            }

            previousDot = false;
        }

        return !previousDot;
    }

    /// <summary>RFC 5322 §3.2.3 atext, extended with UTF-8 per RFC 6532.</summary>
    public static bool IsAtext(char c) =>
        char.IsAsciiLetterOrDigit(c) || c > 0x7f || "!#$%&'*+-/=?^_`{|}~".Contains(c, StringComparison.Ordinal);

    public bool Equals(EmailAddress? other) =>
        other is not null &&
        string.Equals(LocalPart, other.LocalPart, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(Domain, other.Domain, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is EmailAddress other && Equals(other);

    public override int GetHashCode() =>
        HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(LocalPart), Domain);

    /// <summary>Canonical lookup key: lower-case local part and domain.</summary>
    public string Key => LocalPart.ToLowerInvariant() + "@" + Domain;
}