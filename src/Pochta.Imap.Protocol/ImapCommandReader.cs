using System.Buffers;

namespace Pochta.Imap.Protocol;

/// <summary>Limits enforced inside the reader. The "pre-auth" values apply until the session sets
/// <see cref="ImapCommandReader.Authenticated"/>.</summary>
public sealed record ImapReaderLimits
{
    /// <summary>RFC 9051 §4 recommends accepting lines of at least 8000 octets.</summary>
    public int MaxLineLength { get; init; } = 64 * 1024;

    public int MaxLineLengthBeforeAuth { get; init; } = 4 * 1024;

    /// <summary>Largest literal buffered inside a command (not APPEND message data).</summary>
    public int MaxInlineLiteral { get; init; } = 64 * 1024;

    public int MaxInlineLiteralBeforeAuth { get; init; } = 1024;

    /// <summary>Total bytes of one command (lines and inline literals).</summary>
    public int MaxCommandSize { get; init; } = 1024 * 1024;

    /// <summary>Largest APPEND message literal (APPENDLIMIT); larger sizes are refused before "+".</summary>
    public long MaxAppendSize { get; init; } = 50L * 1024 * 1024;

    /// <summary>RFC 7888 §4 LITERAL-: non-synchronizing literals may carry at most 4096 octets.</summary>
    public int MaxNonSynchronizingLiteral { get; init; } = 4096;
}

public enum ReadStatus
{
    /// <summary>Nothing complete yet; everything offered was consumed.</summary>
    NeedMoreData,

    /// <summary>A complete command: <see cref="ReadResult.Command"/>.</summary>
    Request,

    /// <summary>A synchronizing literal was announced: send <c>+ </c> then keep reading.</summary>
    NeedContinuation,

    /// <summary>An APPEND message literal starts: <see cref="ReadResult.Append"/>. The caller streams
    /// exactly <see cref="AppendMessage.Size"/> bytes itself, then calls <see cref="ImapCommandReader.LiteralConsumed"/>.</summary>
    AppendLiteral,

    /// <summary>Malformed command; reply tagged BAD (untagged if no tag) and continue.</summary>
    SyntaxError,

    /// <summary>A literal larger than allowed was announced synchronizing; nothing was sent by the
    /// client yet: reply tagged NO/BAD (no "+") and continue.</summary>
    LiteralTooLarge,

    /// <summary>The stream cannot be resynchronised: send BYE and close.</summary>
    Fatal,
}

public enum ReadError
{
    None,
    Syntax,
    LineTooLong,
    CommandTooLarge,
    LiteralTooLarge,
    NonSynchronizingLiteralTooLarge,
}

public readonly record struct ReadResult(ReadStatus Status, ImapCommand? Command, AppendMessage? Append, long LiteralSize, string? Tag, ReadError Error, bool IsAppend = false)
{
    public static ReadResult NeedMore => new(ReadStatus.NeedMoreData, null, null, 0, null, ReadError.None);
}

/// <summary>
/// The resumable IMAP command reader (RFC 9051 §2.2, §4.3). Feed it whatever bytes arrived; it
/// consumes them and keeps its own state across calls, so a command may be split anywhere.
/// Memory grows only with bytes actually received, never with a size the client announces.
/// APPEND message literals are not buffered: the reader stops at their start and the session
/// streams them to storage.
/// </summary>
public sealed class ImapCommandReader(ImapReaderLimits limits)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private int _lineStart;
    private long _literalRemaining;
    private bool _awaitingLiteralStream;
    private string? _appendTag;
    private string? _appendMailbox;

    public ImapReaderLimits Limits { get; } = limits;

    /// <summary>Relaxes the limits to their authenticated values.</summary>
    public bool Authenticated { get; set; }

    /// <summary>Mailbox names are UTF-8 (RFC 6855 UTF8=ACCEPT / IMAP4rev2) rather than modified UTF-7.</summary>
    public bool Utf8Mailboxes { get; set; }

    private int MaxLine => Authenticated ? Limits.MaxLineLength : Limits.MaxLineLengthBeforeAuth;

    private int MaxInline => Authenticated ? Limits.MaxInlineLiteral : Limits.MaxInlineLiteralBeforeAuth;

    /// <summary>Discards any partially read command.</summary>
    public void Reset()
    {
        _buffer.Clear();
        _lineStart = 0;
        _literalRemaining = 0;
        _awaitingLiteralStream = false;
        _appendTag = null;
        _appendMailbox = null;
    }

    /// <summary>Call after streaming an APPEND literal's bytes; the rest of the command follows.</summary>
    public void LiteralConsumed()
    {
        if (!_awaitingLiteralStream)
        {
            throw new InvalidOperationException("No APPEND literal is pending.");
        }

        _awaitingLiteralStream = false;
        _buffer.Clear();
        _lineStart = 0;
    }

    /// <summary>Reads a command (or part of one) from <paramref name="input"/>.</summary>
    public ReadResult TryRead(ref SequenceReader<byte> input)
    {
        if (_awaitingLiteralStream)
        {
            throw new InvalidOperationException("The APPEND literal must be streamed first.");
        }

        while (true)
        {
            if (_literalRemaining > 0)
            {
                var take = (int)Math.Min(_literalRemaining, input.Remaining);
                if (take == 0)
                {
                    return ReadResult.NeedMore;
                }

                Copy(ref input, take);
                _literalRemaining -= take;
                if (_literalRemaining > 0)
                {
                    return ReadResult.NeedMore;
                }

                _lineStart = _buffer.WrittenCount;
                continue;
            }

            if (!input.TryReadTo(out ReadOnlySequence<byte> chunk, (byte)'\n', advancePastDelimiter: true))
            {
                var pending = input.Remaining;
                if (_buffer.WrittenCount - _lineStart + pending > MaxLine)
                {
                    return Fail(ReadStatus.Fatal, ReadError.LineTooLong);
                }

                if (_buffer.WrittenCount + pending > Limits.MaxCommandSize)
                {
                    return Fail(ReadStatus.Fatal, ReadError.CommandTooLarge);
                }

                Copy(ref input, (int)pending);
                return ReadResult.NeedMore;
            }

            if (_buffer.WrittenCount - _lineStart + chunk.Length > MaxLine + 1)
            {
                return Fail(ReadStatus.Fatal, ReadError.LineTooLong);
            }

            if (_buffer.WrittenCount + chunk.Length > Limits.MaxCommandSize)
            {
                return Fail(ReadStatus.Fatal, ReadError.CommandTooLarge);
            }

            foreach (var m in chunk)
            {
                _buffer.Write(m.Span);
            }

            // The line without its CRLF. Leniency: a bare LF also ends a line (telnet/netcat users).
            var lineEnd = _buffer.WrittenCount;
            if (lineEnd > _lineStart && _buffer.WrittenSpan[lineEnd - 1] == (byte)'\r')
            {
                lineEnd--;
            }

            TrimTo(lineEnd);
            if (_buffer.WrittenCount == 0 && _appendTag is null)
            {
                // RFC 9051 has no empty command; a blank line is skipped (leniency: telnet users)
                // and reading goes on, so a command behind it in the same read is not left waiting.
                continue;
            }

            var line = _buffer.WrittenSpan[_lineStart..];
            if (TryParseLiteralMarker(line, out var size, out var nonSync, out var binary, out var markerStart))
            {
                var result = OnLiteral(size, nonSync, binary, markerStart);
                if (result is { } r)
                {
                    return r;
                }

                continue;
            }

            return OnCommandComplete();
        }
    }

    /// <summary>
    /// Reads one raw line (AUTHENTICATE responses, IDLE's DONE): false until a full line arrived.
    /// Returns the line without CRLF. A line longer than the limit is <see cref="ReadStatus.Fatal"/>.
    /// </summary>
    public ReadStatus TryReadLine(ref SequenceReader<byte> input, out byte[]? line)
    {
        line = null;
        if (!input.TryReadTo(out ReadOnlySequence<byte> chunk, (byte)'\n', advancePastDelimiter: true))
        {
            if (_buffer.WrittenCount + input.Remaining > MaxLine)
            {
                Reset();
                return ReadStatus.Fatal;
            }

            Copy(ref input, (int)input.Remaining);
            return ReadStatus.NeedMoreData;
        }

        if (_buffer.WrittenCount + chunk.Length > MaxLine + 1)
        {
            Reset();
            return ReadStatus.Fatal;
        }

        foreach (var m in chunk)
        {
            _buffer.Write(m.Span);
        }

        var span = _buffer.WrittenSpan;
        var end = span.Length;
        if (end > 0 && span[end - 1] == (byte)'\r')
        {
            end--;
        }

        line = span[..end].ToArray();
        Reset();
        return ReadStatus.Request;
    }

    private ReadResult? OnLiteral(long size, bool nonSync, bool binary, int markerStart)
    {
        var tag = _appendTag ?? PeekTag();

        // Is this an APPEND message literal? Either a later message of a MULTIAPPEND, or the first
        // literal after the mailbox name of an APPEND command.
        AppendMessage? append = null;
        var isAppend = false;
        if (_appendTag is not null)
        {
            isAppend = true;
            append = CommandParser.ParseAppendContinuation(_buffer.WrittenSpan[..(_lineStart + markerStart)], _appendTag, _appendMailbox!, size, !nonSync, binary);
        }
        else if (CommandParser.IsAppendMessageLiteral(_buffer.WrittenSpan[..(_lineStart + markerStart)], out var prefixEnd))
        {
            isAppend = true;
            append = CommandParser.ParseAppendPrefix(_buffer.WrittenSpan[..prefixEnd], Utf8Mailboxes, size, !nonSync, binary);
        }

        if (nonSync && size > Limits.MaxNonSynchronizingLiteral)
        {
            // RFC 7888 §4: the client sends the data regardless; we cannot resynchronise.
            return Fail(ReadStatus.Fatal, ReadError.NonSynchronizingLiteralTooLarge, tag);
        }

        if (isAppend)
        {
            if (append is null)
            {
                return nonSync ? Fail(ReadStatus.Fatal, ReadError.Syntax, tag) : Fail(ReadStatus.SyntaxError, ReadError.Syntax, tag);
            }

            if (size > Limits.MaxAppendSize || !Authenticated)
            {
                return nonSync
                    ? Fail(ReadStatus.Fatal, ReadError.LiteralTooLarge, tag)
                    : Fail(ReadStatus.LiteralTooLarge, ReadError.LiteralTooLarge, tag, isAppend: true);
            }

            _appendTag = append.Tag;
            _appendMailbox = append.Mailbox;
            _awaitingLiteralStream = true;
            _buffer.Clear();
            _lineStart = 0;
            return new ReadResult(ReadStatus.AppendLiteral, null, append, size, append.Tag, ReadError.None, true);
        }

        if (size > MaxInline || _buffer.WrittenCount + size > Limits.MaxCommandSize)
        {
            return nonSync
                ? Fail(ReadStatus.Fatal, ReadError.LiteralTooLarge, tag)
                : Fail(ReadStatus.LiteralTooLarge, ReadError.LiteralTooLarge, tag);
        }

        // Keep the CRLF so the parser sees the literal exactly as on the wire.
        _buffer.Write("\r\n"u8);
        _literalRemaining = size;
        _lineStart = _buffer.WrittenCount;
        if (size == 0)
        {
            // An empty literal: the line continues right away.
        }

        return nonSync ? null : new ReadResult(ReadStatus.NeedContinuation, null, null, size, tag, ReadError.None);
    }

    private ReadResult OnCommandComplete()
    {
        try
        {
            if (_appendTag is not null)
            {
                var tag = _appendTag;
                var rest = _buffer.WrittenSpan;
                Reset();
                return rest.IsEmpty
                    ? new ReadResult(ReadStatus.Request, new AppendCompleteCommand(tag), null, 0, tag, ReadError.None, true)
                    : new ReadResult(ReadStatus.SyntaxError, null, null, 0, tag, ReadError.Syntax, true);
            }

            var command = CommandParser.Parse(_buffer.WrittenSpan, Utf8Mailboxes);
            Reset();
            return new ReadResult(ReadStatus.Request, command, null, 0, command.Tag, ReadError.None);
        }
        catch (ImapParseException)
        {
            return Fail(ReadStatus.SyntaxError, ReadError.Syntax);
        }
    }

    private ReadResult Fail(ReadStatus status, ReadError error, string? tag = null, bool isAppend = false)
    {
        tag ??= _appendTag ?? PeekTag();
        isAppend |= _appendTag is not null;
        Reset();
        return new ReadResult(status, null, null, 0, tag, error, isAppend);
    }

    /// <summary>The tag at the start of the buffered command, if it is a valid tag.</summary>
    private string? PeekTag() => CommandParser.TryReadTag(_buffer.WrittenSpan);

    private void Copy(ref SequenceReader<byte> input, int count)
    {
        var remaining = count;
        while (remaining > 0)
        {
            var span = input.UnreadSpan;
            var n = Math.Min(span.Length, remaining);
            _buffer.Write(span[..n]);
            input.Advance(n);
            remaining -= n;
        }
    }

    private void TrimTo(int length)
    {
        // ArrayBufferWriter cannot shrink; rebuild when the line terminator must go.
        var extra = _buffer.WrittenCount - length;
        if (extra == 0)
        {
            return;
        }

        var keep = _buffer.WrittenSpan[..length].ToArray();
        _buffer.Clear();
        _buffer.Write(keep);
    }

    /// <summary>Recognises <c>{n}</c>, <c>{n+}</c>, <c>~{n}</c> at the end of a line (RFC 9051 §4.3, RFC 7888, RFC 3516).</summary>
    internal static bool TryParseLiteralMarker(ReadOnlySpan<byte> line, out long size, out bool nonSync, out bool binary, out int markerStart)
    {
        size = 0;
        nonSync = false;
        binary = false;
        markerStart = 0;
        if (line.Length < 3 || line[^1] != (byte)'}')
        {
            return false;
        }

        var open = line.LastIndexOf((byte)'{');
        if (open < 0)
        {
            return false;
        }

        var digits = line[(open + 1)..^1];
        if (!digits.IsEmpty && digits[^1] == (byte)'+')
        {
            nonSync = true;
            digits = digits[..^1];
        }

        if (digits.IsEmpty || digits.Length > 19)
        {
            return false;
        }

        long value = 0;
        foreach (var d in digits)
        {
            if (d is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (d - '0');
            if (value < 0)
            {
                return false;
            }
        }

        // The marker must start an argument (after SP, "(" or at line start after a literal).
        markerStart = open;
        if (open > 0 && line[open - 1] == (byte)'~')
        {
            binary = true;
            markerStart = open - 1;
        }

        if (markerStart > 0 && line[markerStart - 1] is not ((byte)' ' or (byte)'('))
        {
            return false;
        }

        size = value;
        return true;
    }
}