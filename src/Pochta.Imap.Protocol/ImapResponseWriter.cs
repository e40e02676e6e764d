using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Pochta.Imap.Protocol;

public enum ImapStatus
{
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

/// <summary>
/// Writes IMAP responses (RFC 9051 §7) to a buffer. Every string is encoded by content: atom when
/// the grammar allows one and it is safe, quoted when printable, literal otherwise (CR, LF, NUL,
/// 8-bit without UTF-8 enabled, or long). Human-readable texts are fixed server strings.
/// </summary>
public sealed class ImapResponseWriter(IBufferWriter<byte> output)
{
    /// <summary>Quoted strings longer than this are sent as literals.</summary>
    public const int MaxQuotedLength = 1024;

    private readonly IBufferWriter<byte> _output = output;

    /// <summary>UTF-8 may appear in quoted strings and mailbox names are UTF-8 (RFC 9051 / RFC 6855 UTF8=ACCEPT).</summary>
    public bool Utf8 { get; set; }

    public ImapResponseWriter Raw(ReadOnlySpan<byte> bytes)
    {
        _output.Write(bytes);
        return this;
    }

    /// <summary>Writes a fixed ASCII token (atom, keyword, text) as is.</summary>
    public ImapResponseWriter Ascii(string text)
    {
        var span = _output.GetSpan(text.Length);
        var n = Encoding.ASCII.GetBytes(text, span);
        _output.Advance(n);
        return this;
    }

    public ImapResponseWriter Untagged() => Raw("* "u8);

    public ImapResponseWriter Space() => Raw(" "u8);

    public ImapResponseWriter Open() => Raw("("u8);

    public ImapResponseWriter Close() => Raw(")"u8);

    public ImapResponseWriter Nil() => Raw("NIL"u8);

    public void EndLine() => Raw("\r\n"u8);

    public ImapResponseWriter Number(ulong value)
    {
        var span = _output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var n);
        _output.Advance(n);
        return this;
    }

    public ImapResponseWriter Number(long value) => Number((ulong)Math.Max(0, value));

    /// <summary><c>* OK [code] text</c> etc.</summary>
    public void UntaggedStatus(ImapStatus status, string? code, string text)
    {
        Untagged();
        StatusTail(status, code, text);
    }

    /// <summary><c>tag OK [code] text</c>.</summary>
    public void Tagged(string tag, ImapStatus status, string? code, string text)
    {
        Ascii(tag).Space();
        StatusTail(status, code, text);
    }

    /// <summary><c>+ text</c> (RFC 9051 §7.5).</summary>
    public void Continuation(string text)
    {
        Raw("+ "u8).Ascii(text);
        EndLine();
    }

    /// <summary><c>+ base64</c> for a SASL challenge (RFC 9051 §6.2.2); empty data gives <c>+ </c>.</summary>
    public void ContinuationBase64(ReadOnlySpan<byte> data)
    {
        Raw("+ "u8);
        var span = _output.GetSpan(Base64.GetMaxEncodedToUtf8Length(data.Length));
        Base64.EncodeToUtf8(data, span, out _, out var written);
        _output.Advance(written);
        EndLine();
    }

    private void StatusTail(ImapStatus status, string? code, string text)
    {
        Raw(status switch
        {
            ImapStatus.Ok => "OK"u8,
            ImapStatus.No => "NO"u8,
            ImapStatus.Bad => "BAD"u8,
            ImapStatus.PreAuth => "PREAUTH"u8,
            _ => "BYE"u8,
        });
        Space();
        if (code is not null)
        {
            Raw("["u8).Ascii(code).Raw("] "u8);
        }

        Ascii(text);
        EndLine();
    }

    /// <summary>astring: atom when possible, else quoted or literal.</summary>
    public ImapResponseWriter AString(string value)
    {
        if (IsAtomSafe(value))
        {
            return Ascii(value);
        }

        return QuotedOrLiteral(value);
    }

    /// <summary>nstring: NIL for null, else quoted or literal.</summary>
    public ImapResponseWriter NString(string? value) => value is null ? Nil() : QuotedOrLiteral(value);

    /// <summary>string: quoted or literal, chosen by content.</summary>
    public ImapResponseWriter QuotedOrLiteral(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var quotable = value.Length <= MaxQuotedLength;
        foreach (var ch in value)
        {
            if (ch is '\r' or '\n' or '\0' || (ch > 0x7f && !Utf8))
            {
                quotable = false;
                break;
            }
        }

        if (quotable)
        {
            Raw("\""u8);
            Utf8Text(value.AsSpan().ContainsAny('"', '\\') ? Escape(value) : value);

            return Raw("\""u8);
        }

        return Literal(Encoding.UTF8.GetBytes(value));
    }

    /// <summary>A literal with its content.</summary>
    public ImapResponseWriter Literal(ReadOnlySpan<byte> data)
    {
        LiteralHeader(data.Length);
        return Raw(data);
    }

    /// <summary><c>{n}CRLF</c>; the caller writes exactly n bytes next.</summary>
    public ImapResponseWriter LiteralHeader(long length)
    {
        Raw("{"u8).Number(length).Raw("}\r\n"u8);
        return this;
    }

    /// <summary>A mailbox name: UTF-8 when enabled, else modified UTF-7 (RFC 3501 §5.1.3).</summary>
    public ImapResponseWriter Mailbox(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return AString(Utf8 ? name : ModifiedUtf7.Encode(name));
    }

    private ImapResponseWriter Utf8Text(string text)
    {
        var span = _output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var n = Encoding.UTF8.GetBytes(text, span);
        _output.Advance(n);
        return this;
    }

    private static string Escape(string value)
    {
        var sb = new StringBuilder(value.Length + 4);
        foreach (var ch in value)
        {
            if (ch is '"' or '\\')
            {
                sb.Append('\\');
            }

            sb.Append(ch);
        }

        return sb.ToString();
    }

    /// <summary>True when <paramref name="value"/> can be sent as an atom (ASTRING-CHAR only, not NIL).</summary>
    public static bool IsAtomSafe(string value)
    {
        if (string.IsNullOrEmpty(value) || string.Equals(value, "NIL", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var ch in value)
        {
            if (ch > 0x7f || !CommandParser.IsAStringChar((byte)ch))
            {
                return false;
            }
        }

        return true;
    }
}