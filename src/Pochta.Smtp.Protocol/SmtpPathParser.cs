using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Unicode;

using Pochta.Core;

namespace Pochta.Smtp.Protocol;

/// <summary>The result of parsing a Reverse-path or Forward-path.</summary>
/// <param name="Address">Null for the null path and for <c>&lt;Postmaster&gt;</c>.</param>
/// <param name="Consumed">Octets consumed, through the closing <c>&gt;</c>.</param>
public readonly record struct SmtpPath(EmailAddress? Address, bool IsNull, bool IsPostmaster, bool IsUtf8, int Consumed);

/// <summary>
/// RFC 5321 §4.1.2 paths: <c>"&lt;" [ A-d-l ":" ] Mailbox "&gt;"</c>. Local part is a Dot-string or a
/// Quoted-string; the domain a host name or an address literal (§4.1.3). A source route is
/// accepted and ignored (§4.1.1.3, Appendix C). Non-ASCII octets must be valid UTF-8 (RFC 6531
/// §3.3); whether they are allowed depends on SMTPUTF8, which the caller checks via
/// <see cref="SmtpPath.IsUtf8"/>.
/// </summary>
public static class SmtpPathParser
{
    private static readonly System.Buffers.SearchValues<byte> Ipv4Chars = System.Buffers.SearchValues.Create("0123456789."u8);

    public static bool TryParse(ReadOnlySpan<byte> s, bool allowNull, bool allowPostmaster, out SmtpPath path)
    {
        path = default;
        if (s.IsEmpty || s[0] != '<')
        {
            return false;
        }

        var i = 1;
        if (i < s.Length && s[i] == '@')
        {
            // A-d-l = At-domain *( "," At-domain ) — skipped.
            var colon = s.IndexOf((byte)':');
            if (colon < 0 || s[..colon].IndexOfAny((byte)'>', (byte)' ') >= 0)
            {
                return false;
            }

            i = colon + 1;
        }

        if (i < s.Length && s[i] == '>')
        {
            if (!allowNull || i != 1)
            {
                return false;
            }

            path = new SmtpPath(null, true, false, false, 2);
            return true;
        }

        var localStart = i;
        if (i < s.Length && s[i] == '"')
        {
            i++;
            var closed = false;
            while (i < s.Length)
            {
                var c = s[i];
                if (c == '\\')
                {
                    // quoted-pairSMTP = %d92 %d32-126
                    if (i + 1 >= s.Length || s[i + 1] is < 32 or > 126)
                    {
                        return false;
                    }

                    i += 2;
                }
                else if (c == '"')
                {
                    i++;
                    closed = true;
                    break;
                }
                else if (c is (>= 32 and <= 126) or >= 0x80)
                {
                    i++;
                }
                else
                {
                    return false;
                }
            }

            if (!closed)
            {
                return false;
            }
        }
        else
        {
            while (i < s.Length && s[i] is not (byte)'@' and not (byte)'>' and not (byte)' ')
            {
                i++;
            }
        }

        var local = s[localStart..i];
        if (i < s.Length && s[i] == '>' && allowPostmaster && Ascii.EqualsIgnoreCase(local, "Postmaster"u8))
        {
            path = new SmtpPath(null, false, true, false, i + 1);
            return true;
        }

        if (i >= s.Length || s[i] != '@')
        {
            return false;
        }

        i++;
        var domainStart = i;
        if (i < s.Length && s[i] == '[')
        {
            var close = s[i..].IndexOf((byte)']');
            if (close < 0)
            {
                return false;
            }

            i += close + 1;
            if (!IsValidAddressLiteral(s[(domainStart + 1)..(i - 1)]))
            {
                return false;
            }
        }
        else
        {
            while (i < s.Length && s[i] is not (byte)'>' and not (byte)' ')
            {
                i++;
            }
        }

        if (i >= s.Length || s[i] != '>')
        {
            return false;
        }

        var mailbox = s[localStart..i];
        var utf8 = mailbox.IndexOfAnyInRange((byte)0x80, (byte)0xff) >= 0;
        if (utf8 && !Utf8.IsValid(mailbox))
        {
            return false;
        }

        if (!EmailAddress.TryParse(Encoding.UTF8.GetString(mailbox), out var address))
        {
            return false;
        }

        path = new SmtpPath(address, false, false, utf8, i + 1);
        return true;
    }

    /// <summary>RFC 5321 §4.1.3: IPv4 dotted quad, <c>IPv6:</c> address, or a General-address-literal.</summary>
    public static bool IsValidAddressLiteral(ReadOnlySpan<byte> inner)
    {
        if (inner.IsEmpty)
        {
            return false;
        }

        var text = Encoding.ASCII.GetString(inner);
        if (inner.Length >= 5 && Ascii.EqualsIgnoreCase(inner[..5], "IPv6:"u8))
        {
            return IPAddress.TryParse(text.AsSpan(5), out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6;
        }

        if (char.IsAsciiDigit(text[0]))
        {
            // IPv4-address-literal = Snum 3("." Snum)
            return inner.Count((byte)'.') == 3 && inner.IndexOfAnyExcept(Ipv4Chars) < 0 &&
                IPAddress.TryParse(text, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork;
        }

        // General-address-literal = Standardized-tag ":" 1*dcontent
        var colon = inner.IndexOf((byte)':');
        if (colon <= 0 || colon == inner.Length - 1)
        {
            return false;
        }

        foreach (var c in inner[..colon])
        {
            if (!char.IsAsciiLetterOrDigit((char)c) && c != '-')
            {
                return false;
            }
        }

        foreach (var c in inner[(colon + 1)..])
        {
            if (c is < 33 or > 126 or (byte)'[' or (byte)']' or (byte)'\\')
            {
                return false;
            }
        }

        return true;
    }
}