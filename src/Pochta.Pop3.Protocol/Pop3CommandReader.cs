using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Pochta.Pop3.Protocol;

/// <summary>Limits enforced inside the reader.</summary>
public sealed record Pop3ReaderLimits
{
    /// <summary>RFC 2449 §4: a command line is at most 255 octets including the terminating CRLF.</summary>
    public const int Rfc2449LineLength = 255;

    /// <summary>Octets accepted beyond the RFC 2449 limit (long user names, AUTH PLAIN initial
    /// responses of clients that ignore RFC 5034 §4's advice to omit them when too long).</summary>
    public int LineLengthMargin { get; init; } = 257;

    /// <summary>A SASL client response line (RFC 5034 §4 continuation), base64 without CRLF.</summary>
    public int MaxSaslLineLength { get; init; } = 8192;

    /// <summary>After this many octets of an over-long line without LF the stream is given up.</summary>
    public int MaxDiscard { get; init; } = 64 * 1024;

    public int MaxLineLength => Rfc2449LineLength + LineLengthMargin;
}

public enum Pop3ReadStatus
{
    /// <summary>No complete line yet; everything offered was consumed.</summary>
    NeedMoreData,

    /// <summary>A complete, well-formed command: <see cref="Pop3ReadResult.Command"/>.</summary>
    Command,

    /// <summary>A complete line that is not a valid command: reply -ERR and continue.</summary>
    Error,

    /// <summary>The stream cannot be resynchronised (a flood without line ends): close.</summary>
    Fatal,
}

public enum Pop3ReadError
{
    None,
    LineTooLong,
    UnknownCommand,
    Syntax,

    /// <summary>A message number or line count that is not a number in range (RFC 1939 §3:
    /// message numbers start at 1).</summary>
    InvalidNumber,

    /// <summary>Not valid UTF-8 (RFC 6856 §2 allows UTF-8 arguments; nothing else is text).</summary>
    InvalidEncoding,
}

/// <param name="Kind">The recognised keyword, also for <see cref="Pop3ReadStatus.Error"/> results when known.</param>
public readonly record struct Pop3ReadResult(Pop3ReadStatus Status, Pop3Command? Command, Pop3CommandKind? Kind, Pop3ReadError Error)
{
    public static Pop3ReadResult NeedMore => new(Pop3ReadStatus.NeedMoreData, null, null, Pop3ReadError.None);

    public static Pop3ReadResult Fail(Pop3ReadError error, Pop3CommandKind? kind = null) => new(Pop3ReadStatus.Error, null, kind, error);
}

public enum SaslLineStatus
{
    NeedMoreData,

    /// <summary>A line: <see cref="Pop3CommandReader.SaslLine"/> holds it without CRLF.</summary>
    Line,

    /// <summary>Longer than <see cref="Pop3ReaderLimits.MaxSaslLineLength"/>: cancel the exchange.</summary>
    TooLong,

    Fatal,
}

/// <summary>
/// The resumable POP3 command reader. Feed it whatever bytes arrived; it consumes them and keeps
/// a partial line itself, so a command may be split at any byte. Memory is bounded by the line
/// limit: an over-long line is discarded up to its LF and reported once (RFC 2449 §4).
/// Keywords are case-insensitive (RFC 1939 §3). Lines end with CRLF; a bare LF also ends a line
/// (leniency for hand-typed sessions, e.g. <c>nc</c> without <c>-C</c>).
/// </summary>
public sealed class Pop3CommandReader(Pop3ReaderLimits limits)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ArrayBufferWriter<byte> _line = new(128);
    private bool _discarding;
    private long _discarded;
    private bool _clearOnNext;
    private int _lineLength;

    public Pop3ReaderLimits Limits { get; } = limits;

    /// <summary>The last line returned by <see cref="TryReadSaslLine"/>; valid until the next call.</summary>
    public ReadOnlySpan<byte> SaslLine => _line.WrittenSpan[.._lineLength];

    /// <summary>True when a partial line is held (bytes received after the last complete line).</summary>
    public bool HasPartialLine => !_clearOnNext && (_line.WrittenCount > 0 || _discarding);

    /// <summary>Discards any partially read line (after STLS the plaintext buffer is gone).</summary>
    public void Reset()
    {
        _line.Clear();
        _discarding = false;
        _discarded = 0;
        _clearOnNext = false;
    }

    /// <summary>Reads one command line from <paramref name="input"/>, consuming only up to its end.</summary>
    public Pop3ReadResult TryReadCommand(ref SequenceReader<byte> input)
    {
        return ReadLine(ref input, Limits.MaxLineLength) switch
        {
            LineStatus.Line => Pop3CommandParser.Parse(_line.WrittenSpan[.._lineLength]),
            LineStatus.TooLong => Pop3ReadResult.Fail(Pop3ReadError.LineTooLong),
            LineStatus.Fatal => new Pop3ReadResult(Pop3ReadStatus.Fatal, null, null, Pop3ReadError.LineTooLong),
            _ => Pop3ReadResult.NeedMore,
        };
    }

    /// <summary>Reads one SASL client response line (RFC 5034 §4): base64, or <c>*</c> to cancel.</summary>
    public SaslLineStatus TryReadSaslLine(ref SequenceReader<byte> input)
    {
        return ReadLine(ref input, Limits.MaxSaslLineLength + 2) switch
        {
            LineStatus.Line => SaslLineStatus.Line,
            LineStatus.TooLong => SaslLineStatus.TooLong,
            LineStatus.Fatal => SaslLineStatus.Fatal,
            _ => SaslLineStatus.NeedMoreData,
        };
    }

    /// <summary>Decodes argument bytes: ASCII, or UTF-8 (RFC 6856). Null when not valid UTF-8.</summary>
    internal static string? DecodeText(ReadOnlySpan<byte> bytes) => Utf8.IsValid(bytes) ? StrictUtf8.GetString(bytes) : null;

    private enum LineStatus
    {
        NeedMore,
        Line,
        TooLong,
        Fatal,
    }

    /// <param name="max">Maximum octets including the line end.</param>
    private LineStatus ReadLine(ref SequenceReader<byte> input, int max)
    {
        if (_clearOnNext)
        {
            _line.Clear();
            _clearOnNext = false;
        }

        if (input.TryReadTo(out ReadOnlySequence<byte> content, (byte)'\n', advancePastDelimiter: true))
        {
            if (_discarding || _line.WrittenCount + content.Length + 1 > max)
            {
                Reset();
                return LineStatus.TooLong;
            }

            Append(content);
            _clearOnNext = true;
            var written = _line.WrittenSpan;
            _lineLength = written.Length > 0 && written[^1] == (byte)'\r' ? written.Length - 1 : written.Length;
            return LineStatus.Line;
        }

        var rest = input.UnreadSequence;
        input.AdvanceToEnd();
        if (_discarding)
        {
            _discarded += rest.Length;
            return _discarded > Limits.MaxDiscard ? LineStatus.Fatal : LineStatus.NeedMore;
        }

        if (_line.WrittenCount + rest.Length >= max)
        {
            _line.Clear();
            _discarding = true;
            _discarded = rest.Length;
            return _discarded > Limits.MaxDiscard ? LineStatus.Fatal : LineStatus.NeedMore;
        }

        Append(rest);
        return LineStatus.NeedMore;
    }

    private void Append(ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            _line.Write(segment.Span);
        }
    }
}