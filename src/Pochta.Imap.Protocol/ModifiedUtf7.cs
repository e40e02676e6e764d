using System.Buffers.Text;
using System.Text;

namespace Pochta.Imap.Protocol;

/// <summary>RFC 3501 §5.1.3 modified UTF-7 for mailbox names: printable US-ASCII except
/// <c>&amp;</c> stands for itself, <c>&amp;-</c> is <c>&amp;</c>, and other characters are
/// UTF-16 in modified base64 (<c>,</c> for <c>/</c>, no padding) between <c>&amp;</c> and <c>-</c>.</summary>
public static class ModifiedUtf7
{
    public static string Encode(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var sb = new StringBuilder(name.Length + 8);
        var i = 0;
        while (i < name.Length)
        {
            var c = name[i];
            if (c == '&')
            {
                sb.Append("&-");
                i++;
            }
            else if (c >= 0x20 && c <= 0x7e)
            {
                sb.Append(c);
                i++;
            }
            else
            {
                var start = i;
                while (i < name.Length && (name[i] < 0x20 || name[i] > 0x7e))
                {
                    i++;
                }

                var utf16 = Encoding.BigEndianUnicode.GetBytes(name, start, i - start);
                var b64 = Convert.ToBase64String(utf16).TrimEnd('=').Replace('/', ',');
                sb.Append('&').Append(b64).Append('-');
            }
        }

        return sb.ToString();
    }

    /// <summary>Decodes; false when the input is not valid modified UTF-7 (RFC 3501 §5.1.3:
    /// 8-bit bytes, unterminated or non-canonical shifts).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, out string? name)
    {
        name = null;
        var sb = new StringBuilder(encoded.Length);
        var i = 0;
        while (i < encoded.Length)
        {
            var b = encoded[i];
            if (b < 0x20 || b > 0x7e)
            {
                return false;
            }

            if (b != (byte)'&')
            {
                sb.Append((char)b);
                i++;
                continue;
            }

            var end = encoded[(i + 1)..].IndexOf((byte)'-');
            if (end < 0)
            {
                return false;
            }

            var run = encoded.Slice(i + 1, end);
            i += end + 2;
            if (run.IsEmpty)
            {
                sb.Append('&');
                continue;
            }

            // Restore standard base64 and padding, then decode UTF-16BE.
            var padded = new byte[(run.Length + 3) / 4 * 4];
            for (var k = 0; k < padded.Length; k++)
            {
                padded[k] = k < run.Length ? (run[k] == (byte)',' ? (byte)'/' : run[k]) : (byte)'=';
                if (k < run.Length && run[k] == (byte)'/')
                {
                    return false;
                }
            }

            var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(padded.Length)];
            if (Base64.DecodeFromUtf8(padded, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written % 2 != 0 || written == 0)
            {
                return false;
            }

            string decoded;
            try
            {
                decoded = new UTF8Encoding(false, true).GetString(Encoding.Convert(
                    new UnicodeEncoding(true, false, true), new UTF8Encoding(false, true), bytes, 0, written));
            }
            catch (ArgumentException)
            {
                return false;
            }

            // Printable ASCII must not be encoded (non-canonical form).
            foreach (var ch in decoded)
            {
                if (ch >= 0x20 && ch <= 0x7e)
                {
                    return false;
                }
            }

            sb.Append(decoded);
        }

        name = sb.ToString();
        return true;
    }
}