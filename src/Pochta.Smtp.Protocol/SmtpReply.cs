using System.Buffers;
using System.Globalization;
using System.Text;

namespace Pochta.Smtp.Protocol;

/// <summary>
/// One SMTP reply (RFC 5321 §4.2): a three-digit code, an RFC 3463 enhanced status code and
/// fixed text lines. Texts are constants chosen by the server; they never contain client input.
/// </summary>
public sealed record SmtpReply(int Code, string? EnhancedCode, IReadOnlyList<string> Lines)
{
    public SmtpReply(int code, string? enhancedCode, string text)
        : this(code, enhancedCode, [text])
    {
    }

    public bool IsPositive => Code < 400;

    public bool IsTransient => Code is >= 400 and < 500;

    /// <summary>The reply as it goes on the wire (CRLF after every line).</summary>
    public override string ToString()
    {
        var buffer = new ArrayBufferWriter<byte>();
        SmtpReplyWriter.Write(buffer, this);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>Formats replies. RFC 5321 §4.2.1: every line but the last carries <c>code-</c>,
/// the last <c>code SP</c>. RFC 2034 §3: the enhanced code follows the basic code on each line.</summary>
public static class SmtpReplyWriter
{
    /// <summary>RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including CRLF.</summary>
    public const int MaxReplyLineLength = 512;

    public static void Write(IBufferWriter<byte> output, SmtpReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.Code is < 200 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(reply), "SMTP reply codes are 2xx-5xx.");
        }

        var lines = reply.Lines.Count == 0 ? [""] : reply.Lines;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.AsSpan().ContainsAny('\r', '\n'))
            {
                throw new ArgumentException("A reply line must not contain CR or LF.", nameof(reply));
            }

            var text = reply.EnhancedCode is null ? line : line.Length == 0 ? reply.EnhancedCode : reply.EnhancedCode + " " + line;
            var length = 4 + Encoding.UTF8.GetByteCount(text) + 2;
            if (length > MaxReplyLineLength)
            {
                throw new ArgumentException("A reply line must not exceed 512 octets.", nameof(reply));
            }

            var span = output.GetSpan(length);
            reply.Code.TryFormat(span, out _, default, CultureInfo.InvariantCulture);
            span[3] = i == lines.Count - 1 ? (byte)' ' : (byte)'-';
            var n = Encoding.UTF8.GetBytes(text, span[4..]);
            span[4 + n] = (byte)'\r';
            span[5 + n] = (byte)'\n';
            output.Advance(6 + n);
        }
    }
}