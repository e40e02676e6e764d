using System.Buffers;

namespace Pochta.Smtp.Protocol;

public enum SmtpDataStatus
{
    /// <summary>Every input byte was consumed; the end-of-data marker has not arrived yet.</summary>
    NeedMoreData,

    /// <summary>The <c>CRLF.CRLF</c> marker was consumed; the reader is positioned after it.</summary>
    Completed,
}

/// <summary>Problems found in DATA content. Any of them makes the message undeliverable, but the
/// decoder keeps reading to the end marker so the session stays in sync.</summary>
[Flags]
public enum SmtpDataDefects
{
    None = 0,

    /// <summary>An LF not preceded by CR (SMTP smuggling, CVE-2023-51764 class).</summary>
    BareLineFeed = 1,

    /// <summary>A CR not followed by LF.</summary>
    BareCarriageReturn = 2,

    /// <summary>A text line longer than the limit (RFC 5321 §4.5.3.1.6).</summary>
    LineTooLong = 4,
}

/// <summary>
/// Streams the DATA content of RFC 5321 §4.1.1.4: removes dot-stuffing (§4.5.2: a leading
/// period of a line is deleted) and stops at the end marker. Only <c>CRLF "." CRLF</c> ends the
/// data — a dot line after a bare LF or bare CR does not — and bare CR / bare LF are reported as
/// <see cref="Defects"/>. The CRLF before the marker belongs to the message. Resumable across
/// any split of the input; one decoder per transfer (or <see cref="Reset"/>).
/// </summary>
public sealed class SmtpDataDecoder(int maxTextLineLength = 1000)
{
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();
    private static readonly byte[] Cr = "\r"u8.ToArray();
    private static readonly byte[] Lf = "\n"u8.ToArray();

    private State _state = State.StartOfLine;
    private int _lineLength;

    private enum State
    {
        StartOfLine,
        InLine,
        SawCr,
        StartDot,
        StartDotCr,
        Done,
    }

    public SmtpDataDefects Defects { get; private set; }

    /// <summary>Octets of message content produced so far (after unstuffing).</summary>
    public long DecodedLength { get; private set; }

    public void Reset()
    {
        _state = State.StartOfLine;
        _lineLength = 0;
        Defects = SmtpDataDefects.None;
        DecodedLength = 0;
    }

    /// <summary>Consumes input, writing decoded content to <paramref name="output"/> (null: count
    /// and discard, e.g. after the size limit was passed).</summary>
    public SmtpDataStatus Decode(ref SequenceReader<byte> input, IBufferWriter<byte>? output)
    {
        if (_state == State.Done)
        {
            return SmtpDataStatus.Completed;
        }

        while (!input.End)
        {
            var span = input.UnreadSpan;
            var i = 0;
            while (i < span.Length)
            {
                switch (_state)
                {
                    case State.StartOfLine:
                        if (span[i] == '.')
                        {
                            i++;
                            _state = State.StartDot;
                        }
                        else
                        {
                            _state = State.InLine;
                        }

                        break;

                    case State.InLine:
                        var rest = span[i..];
                        var stop = rest.IndexOfAny((byte)'\r', (byte)'\n');
                        var run = stop < 0 ? rest.Length : stop;
                        Emit(rest[..run], output);
                        AddToLine(run);
                        i += run;
                        if (stop >= 0)
                        {
                            if (span[i] == '\r')
                            {
                                _state = State.SawCr;
                            }
                            else
                            {
                                Defects |= SmtpDataDefects.BareLineFeed;
                                Emit(Lf, output);
                                _lineLength = 0;
                            }

                            i++;
                        }

                        break;

                    case State.SawCr:
                        if (span[i] == '\n')
                        {
                            i++;
                            Emit(CrLf, output);
                            _lineLength = 0;
                            _state = State.StartOfLine;
                        }
                        else
                        {
                            Defects |= SmtpDataDefects.BareCarriageReturn;
                            Emit(Cr, output);
                            AddToLine(1);
                            _state = State.InLine;
                        }

                        break;

                    case State.StartDot:
                        // The dot is transparency (removed) unless CRLF follows: then it is the marker.
                        if (span[i] == '\r')
                        {
                            i++;
                            _state = State.StartDotCr;
                        }
                        else
                        {
                            _state = State.InLine;
                        }

                        break;

                    case State.StartDotCr:
                        if (span[i] == '\n')
                        {
                            input.Advance(i + 1);
                            _state = State.Done;
                            return SmtpDataStatus.Completed;
                        }

                        Defects |= SmtpDataDefects.BareCarriageReturn;
                        Emit(Cr, output);
                        AddToLine(1);
                        _state = State.InLine;
                        break;
                }
            }

            input.Advance(span.Length);
        }

        return SmtpDataStatus.NeedMoreData;
    }

    private void Emit(ReadOnlySpan<byte> bytes, IBufferWriter<byte>? output)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        DecodedLength += bytes.Length;
        output?.Write(bytes);
    }

    private void AddToLine(int count)
    {
        _lineLength += count;
        if (_lineLength > maxTextLineLength - 2)
        {
            Defects |= SmtpDataDefects.LineTooLong;
        }
    }
}