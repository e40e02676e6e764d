using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Pochta.Pop3.Protocol;

/// <summary>Extended response codes: RFC 2449 §8 (IN-USE, LOGIN-DELAY), RFC 3206 (SYS/TEMP,
/// SYS/PERM, AUTH), RFC 6856 §2 (UTF8).</summary>
public enum Pop3ResponseCode
{
    None,
    InUse,
    LoginDelay,
    SysTemp,
    SysPerm,
    Auth,
    Utf8,
}

/// <summary>
/// Writes POP3 responses (RFC 1939 §3): a status indicator, optional response code in brackets
/// (RFC 2449 §8), text, CRLF. Texts are fixed by the caller and never contain client input.
/// Multi-line bodies go through <see cref="Pop3MultilineEncoder"/>.
/// </summary>
public static class Pop3ResponseWriter
{
    public static void Ok(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        Write(output, "+OK"u8);
        if (!text.IsEmpty)
        {
            Write(output, " "u8);
            Write(output, text);
        }

        Write(output, "\r\n"u8);
    }

    public static void Ok(IBufferWriter<byte> output, string text)
    {
        Write(output, "+OK "u8);
        WriteText(output, text);
        Write(output, "\r\n"u8);
    }

    public static void Err(IBufferWriter<byte> output, Pop3ResponseCode code, ReadOnlySpan<byte> text)
    {
        Write(output, "-ERR"u8);
        var codeText = CodeText(code);
        if (!codeText.IsEmpty)
        {
            Write(output, " ["u8);
            Write(output, codeText);
            Write(output, "]"u8);
        }

        if (!text.IsEmpty)
        {
            Write(output, " "u8);
            Write(output, text);
        }

        Write(output, "\r\n"u8);
    }

    public static void Err(IBufferWriter<byte> output, ReadOnlySpan<byte> text) => Err(output, Pop3ResponseCode.None, text);

    /// <summary>RFC 1939 §5 STAT: <c>+OK nn mm</c>.</summary>
    public static void Stat(IBufferWriter<byte> output, int count, long octets)
    {
        Write(output, "+OK "u8);
        WriteNumber(output, count);
        Write(output, " "u8);
        WriteNumber(output, octets);
        Write(output, "\r\n"u8);
    }

    /// <summary>RFC 1939 §5 scan listing <c>msg octets</c>; with <paramref name="ok"/> as a single-line response.</summary>
    public static void ScanListing(IBufferWriter<byte> output, int message, long octets, bool ok)
    {
        if (ok)
        {
            Write(output, "+OK "u8);
        }

        WriteNumber(output, message);
        Write(output, " "u8);
        WriteNumber(output, octets);
        Write(output, "\r\n"u8);
    }

    /// <summary>RFC 1939 §7 unique-id listing <c>msg unique-id</c>. The id is 1-70 characters in 0x21..0x7E.</summary>
    public static void UniqueIdListing(IBufferWriter<byte> output, int message, ReadOnlySpan<byte> uniqueId, bool ok)
    {
        if (ok)
        {
            Write(output, "+OK "u8);
        }

        WriteNumber(output, message);
        Write(output, " "u8);
        Write(output, uniqueId);
        Write(output, "\r\n"u8);
    }

    /// <summary><c>+OK n messages (m octets)</c> after login and RSET.</summary>
    public static void MaildropSummary(IBufferWriter<byte> output, int count, long octets)
    {
        Write(output, "+OK Maildrop has "u8);
        WriteNumber(output, count);
        Write(output, count == 1 ? " message ("u8 : " messages ("u8);
        WriteNumber(output, octets);
        Write(output, " octets)\r\n"u8);
    }

    /// <summary>A line of a multi-line response that the caller knows needs no byte-stuffing
    /// (capability names, listings). Use <see cref="Pop3MultilineEncoder"/> for message data.</summary>
    public static void Line(IBufferWriter<byte> output, ReadOnlySpan<byte> line)
    {
        Write(output, line);
        Write(output, "\r\n"u8);
    }

    public static void Line(IBufferWriter<byte> output, string line)
    {
        WriteText(output, line);
        Write(output, "\r\n"u8);
    }

    /// <summary>A capability line with a numeric argument, e.g. <c>EXPIRE 30</c>.</summary>
    public static void Line(IBufferWriter<byte> output, ReadOnlySpan<byte> name, long argument)
    {
        Write(output, name);
        Write(output, " "u8);
        WriteNumber(output, argument);
        Write(output, "\r\n"u8);
    }

    /// <summary>RFC 1939 §3: the termination octet of a multi-line response.</summary>
    public static void EndMultiline(IBufferWriter<byte> output) => Write(output, ".\r\n"u8);

    /// <summary>RFC 5034 §4 server challenge: <c>+ </c> followed by base64 of <paramref name="challenge"/>
    /// (just <c>+ </c> when empty).</summary>
    public static void Continuation(IBufferWriter<byte> output, ReadOnlySpan<byte> challenge)
    {
        Write(output, "+ "u8);
        if (!challenge.IsEmpty)
        {
            var length = Base64.GetMaxEncodedToUtf8Length(challenge.Length);
            var span = output.GetSpan(length);
            Base64.EncodeToUtf8(challenge, span, out _, out var written);
            output.Advance(written);
        }

        Write(output, "\r\n"u8);
    }

    public static ReadOnlySpan<byte> CodeText(Pop3ResponseCode code) => code switch
    {
        Pop3ResponseCode.InUse => "IN-USE"u8,
        Pop3ResponseCode.LoginDelay => "LOGIN-DELAY"u8,
        Pop3ResponseCode.SysTemp => "SYS/TEMP"u8,
        Pop3ResponseCode.SysPerm => "SYS/PERM"u8,
        Pop3ResponseCode.Auth => "AUTH"u8,
        Pop3ResponseCode.Utf8 => "UTF8"u8,
        _ => [],
    };

    private static void WriteNumber(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        if (!Utf8Formatter.TryFormat(value, span, out var written))
        {
            throw new InvalidOperationException("Number formatting failed.");
        }

        output.Advance(written);
    }

    private static void WriteText(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }
}