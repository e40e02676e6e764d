using System.Buffers;
using System.Text;

namespace Pochta.Delivery.Outbound;

/// <summary>
/// The byte stream MailKit's SmtpClient talks over, between it and the (TLS) connection: it
/// replays the greeting that <see cref="OutboundConnector"/> read before MailKit took over, and
/// passes every command line through <paramref name="rewriteCommand"/> before sending it (the
/// only way to put parameters on RCPT that MailKit builds itself, RFC 3461 ORCPT). Message
/// content is never touched: after a <c>DATA</c> line everything up to the terminating
/// CRLF.CRLF passes unchanged, after <c>BDAT n</c> the next n octets do.
/// </summary>
internal sealed class SmtpCommandRewriteStream(Stream inner, byte[] replay, Func<string, string> rewriteCommand) : Stream
{
    private readonly ArrayBufferWriter<byte> _line = new();
    private int _replayOffset;
    private Mode _mode;
    private long _binaryLeft;

    // The last five bytes of message content, to find CRLF.CRLF across writes.
    private ulong _tail;

    private enum Mode
    {
        Command,
        Data,
        Binary,
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanTimeout => inner.CanTimeout;

    public override int ReadTimeout { get => inner.ReadTimeout; set => inner.ReadTimeout = value; }

    public override int WriteTimeout { get => inner.WriteTimeout; set => inner.WriteTimeout = value; }

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_replayOffset < replay.Length)
        {
            var n = Math.Min(buffer.Length, replay.Length - _replayOffset);
            replay.AsSpan(_replayOffset, n).CopyTo(buffer);
            _replayOffset += n;
            return n;
        }

        return inner.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_replayOffset < replay.Length)
        {
            return ValueTask.FromResult(Read(buffer.Span));
        }

        return inner.ReadAsync(buffer, cancellationToken);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var output = new ArrayBufferWriter<byte>(buffer.Length + 64);
        Process(buffer, output);
        inner.Write(output.WrittenSpan);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var output = new ArrayBufferWriter<byte>(buffer.Length + 64);
        Process(buffer.Span, output);
        return output.WrittenCount == 0 ? ValueTask.CompletedTask : inner.WriteAsync(output.WrittenMemory, cancellationToken);
    }

    private void Process(ReadOnlySpan<byte> input, ArrayBufferWriter<byte> output)
    {
        while (!input.IsEmpty)
        {
            switch (_mode)
            {
                case Mode.Binary:
                    {
                        var n = (int)Math.Min(input.Length, _binaryLeft);
                        output.Write(input[..n]);
                        input = input[n..];
                        _binaryLeft -= n;
                        if (_binaryLeft == 0)
                        {
                            _mode = Mode.Command;
                        }

                        break;
                    }

                case Mode.Data:
                    {
                        var i = 0;
                        var done = false;
                        for (; i < input.Length; i++)
                        {
                            _tail = ((_tail << 8) | input[i]) & 0xFF_FFFF_FFFF;
                            if (_tail == 0x0D_0A2E_0D0A)
                            {
                                done = true;
                                i++;
                                break;
                            }
                        }

                        output.Write(input[..i]);
                        input = input[i..];
                        if (done)
                        {
                            _mode = Mode.Command;
                        }

                        break;
                    }

                default:
                    {
                        var lf = input.IndexOf((byte)'\n');
                        if (lf < 0)
                        {
                            _line.Write(input);
                            return;
                        }

                        _line.Write(input[..(lf + 1)]);
                        input = input[(lf + 1)..];
                        EmitCommand(output);
                        break;
                    }
            }
        }
    }

    private void EmitCommand(ArrayBufferWriter<byte> output)
    {
        var line = Encoding.UTF8.GetString(_line.WrittenSpan).TrimEnd('\r', '\n');
        _line.ResetWrittenCount();
        var rewritten = line.StartsWith("RCPT ", StringComparison.OrdinalIgnoreCase) ? rewriteCommand(line) : line;
        output.Write(Encoding.UTF8.GetBytes(rewritten + "\r\n"));
        if (line.Equals("DATA", StringComparison.OrdinalIgnoreCase))
        {
            _mode = Mode.Data;
            _tail = 0x0D0A; // content starts at the beginning of a line
        }
        else if (line.StartsWith("BDAT ", StringComparison.OrdinalIgnoreCase))
        {
            var size = line.AsSpan(5);
            var space = size.IndexOf(' ');
            if (long.TryParse(space < 0 ? size : size[..space], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0)
            {
                _mode = Mode.Binary;
                _binaryLeft = n;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}