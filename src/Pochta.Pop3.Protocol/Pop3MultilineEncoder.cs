using System.Buffers;

namespace Pochta.Pop3.Protocol;

/// <summary>
/// Streams message data as a POP3 multi-line response body (RFC 1939 §3): a line that begins with
/// "." gets another "." prepended, every line ends with CRLF (a bare LF of a stored message is
/// written as CRLF), and <see cref="Complete"/> ends the response with CRLF.CRLF. Data arrives in
/// chunks of any size; the state (line start, last CR) carries across chunks, so a message is never
/// loaded whole. For TOP (RFC 1939 §7) the encoder stops after the header, the blank line that ends
/// it, and the given number of body lines, then ignores further input (<see cref="IsComplete"/>).
/// </summary>
public sealed class Pop3MultilineEncoder
{
    private readonly int? _bodyLines;
    private bool _atLineStart = true;
    private bool _lastWasCr;
    private long _lineLength;
    private bool _inHeader;
    private int _remainingBodyLines;

    /// <param name="topBodyLines">Null for RETR (the whole message); the TOP line count otherwise.</param>
    public Pop3MultilineEncoder(int? topBodyLines = null)
    {
        _bodyLines = topBodyLines;
        _inHeader = topBodyLines is not null;
        _remainingBodyLines = topBodyLines ?? 0;
    }

    /// <summary>TOP has written everything it will; stop reading the message.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>Encodes <paramref name="data"/> into <paramref name="output"/>.</summary>
    public void Write(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (data.IsEmpty || IsComplete)
        {
            return;
        }

        if (_bodyLines is null)
        {
            WriteWhole(data, output);
        }
        else
        {
            WriteTop(data, output);
        }
    }

    /// <summary>
    /// RETR: copies runs of bytes that need no change in bulk and breaks a run only where a byte
    /// must be added: a "." before a line that starts with "." (RFC 1939 §3), a CR before a bare LF.
    /// </summary>
    private void WriteWhole(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        var runStart = 0;
        if (_atLineStart && data[0] == (byte)'.')
        {
            Put(output, "."u8);
        }

        var i = 0;
        while (true)
        {
            var lf = data[i..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                break;
            }

            var p = i + lf;
            var crBeforeLf = p > 0 ? data[p - 1] == (byte)'\r' : _lastWasCr;
            if (!crBeforeLf)
            {
                // A bare LF of the stored message goes out as CRLF.
                Put(output, data[runStart..p]);
                Put(output, "\r\n"u8);
                runStart = p + 1;
            }

            i = p + 1;
            if (i == data.Length)
            {
                break;
            }

            if (data[i] == (byte)'.')
            {
                Put(output, data[runStart..i]);
                Put(output, "."u8);
                runStart = i;
            }
        }

        Put(output, data[runStart..]);
        var last = data[^1];
        _atLineStart = last == (byte)'\n';
        _lastWasCr = last == (byte)'\r';
    }

    /// <summary>TOP: line by line, counting the header and the body lines.</summary>
    private void WriteTop(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        while (!data.IsEmpty && !IsComplete)
        {
            if (_atLineStart)
            {
                _atLineStart = false;
                if (data[0] == (byte)'.')
                {
                    // RFC 1939 §3 byte-stuffing.
                    Put(output, "."u8);
                }
            }

            var lf = data.IndexOf((byte)'\n');
            if (lf < 0)
            {
                Put(output, data);
                _lineLength += data.Length;
                _lastWasCr = data[^1] == (byte)'\r';
                return;
            }

            var segment = data[..lf];
            Put(output, segment);
            var crBeforeLf = segment.IsEmpty ? _lastWasCr : segment[^1] == (byte)'\r';
            var total = _lineLength + segment.Length;
            Put(output, crBeforeLf ? "\n"u8 : "\r\n"u8);
            EndOfLine(lineEmpty: total - (crBeforeLf ? 1 : 0) == 0);
            data = data[(lf + 1)..];
        }
    }

    /// <summary>Ends the response: CRLF if the data did not end with a line end, then ".CRLF".</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (!_atLineStart)
        {
            Put(output, _lastWasCr ? "\n"u8 : "\r\n"u8);
        }

        Put(output, ".\r\n"u8);
        _atLineStart = true;
        _lastWasCr = false;
        _lineLength = 0;
        IsComplete = true;
    }

    private void EndOfLine(bool lineEmpty)
    {
        _atLineStart = true;
        _lastWasCr = false;
        _lineLength = 0;
        if (_bodyLines is null)
        {
            return;
        }

        if (_inHeader)
        {
            if (lineEmpty)
            {
                // RFC 1939 §7: the blank line separating header and body is sent, then n lines.
                _inHeader = false;
                IsComplete = _remainingBodyLines == 0;
            }

            return;
        }

        _remainingBodyLines--;
        IsComplete = _remainingBodyLines <= 0;
    }

    /// <summary>Copies into the writer's buffers as they come, so a long run needs no buffer of its size.</summary>
    private static void Put(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var span = output.GetSpan();
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            output.Advance(n);
            bytes = bytes[n..];
        }
    }
}