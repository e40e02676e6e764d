using MimeKit.Encodings;
using MimeKit.IO;
using MimeKit.IO.Filters;

namespace Pochta.Mime;

/// <summary>Content-Transfer-Encoding decoding for IMAP BINARY[...] and BINARY.SIZE (RFC 3516).</summary>
public static class TransferDecoding
{
    /// <summary>
    /// True when the encoding can be decoded: absent, 7bit, 8bit, binary, base64,
    /// quoted-printable (case-insensitive). For anything else RFC 3516 §4.1 requires a tagged NO
    /// with the UNKNOWN-CTE response code.
    /// </summary>
    public static bool IsSupported(string? transferEncoding) => Classify(transferEncoding) != Kind.Unknown;

    /// <summary>
    /// A read-only stream of the decoded content of <paramref name="encoded"/> (the part body as
    /// stored, e.g. a <see cref="ByteRangeStream"/>). Identity encodings return
    /// <paramref name="encoded"/> itself. The returned stream owns <paramref name="encoded"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The encoding is not one <see cref="IsSupported"/> accepts.</exception>
    public static Stream OpenDecoded(Stream encoded, string? transferEncoding)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        IMimeDecoder decoder;
        switch (Classify(transferEncoding))
        {
            case Kind.Identity:
                return encoded;
            case Kind.Base64:
                decoder = new Base64Decoder();
                break;
            case Kind.QuotedPrintable:
                decoder = new QuotedPrintableDecoder();
                break;
            default:
                throw new NotSupportedException("Unknown Content-Transfer-Encoding.");
        }

        var filtered = new FilteredStream(encoded);
        filtered.Add(new DecoderFilter(decoder));
        return filtered;
    }

    /// <summary>The decoded size in octets (BINARY.SIZE), computed by decoding. Identity encodings
    /// return the stream length without reading.</summary>
    public static async Task<long> GetDecodedSizeAsync(Stream encoded, string? transferEncoding, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (Classify(transferEncoding) == Kind.Identity && encoded.CanSeek)
        {
            return encoded.Length - encoded.Position;
        }

        var decoded = OpenDecoded(encoded, transferEncoding);
        await using (decoded.ConfigureAwait(false))
        {
            var buffer = new byte[16 * 1024];
            long total = 0;
            int n;
            while ((n = await decoded.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += n;
            }

            return total;
        }
    }

    private enum Kind
    {
        Identity,
        Base64,
        QuotedPrintable,
        Unknown,
    }

    private static Kind Classify(string? encoding)
    {
        if (encoding is null)
        {
            return Kind.Identity;
        }

        var e = encoding.AsSpan().Trim();
        if (e.IsEmpty || e.Equals("7bit", StringComparison.OrdinalIgnoreCase) || e.Equals("8bit", StringComparison.OrdinalIgnoreCase)
            || e.Equals("binary", StringComparison.OrdinalIgnoreCase))
        {
            return Kind.Identity;
        }

        if (e.Equals("base64", StringComparison.OrdinalIgnoreCase))
        {
            return Kind.Base64;
        }

        if (e.Equals("quoted-printable", StringComparison.OrdinalIgnoreCase))
        {
            return Kind.QuotedPrintable;
        }

        return Kind.Unknown;
    }
}

/// <summary>A read-only seekable window [offset, offset + length) over a seekable stream (a byte
/// range of the raw message). Owns the inner stream unless told otherwise.</summary>
public sealed class ByteRangeStream : Stream
{
    private readonly Stream inner;
    private readonly long start;
    private readonly long length;
    private readonly bool leaveOpen;
    private long position;

    public ByteRangeStream(Stream inner, long offset, long length, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!inner.CanSeek)
        {
            throw new ArgumentException("The stream must be seekable.", nameof(inner));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        this.inner = inner;
        start = offset;
        this.length = Math.Max(0, Math.Min(length, inner.Length - offset));
        this.leaveOpen = leaveOpen;
    }

    public ByteRangeStream(Stream inner, ByteRange range, bool leaveOpen = false)
        : this(inner, range.Offset, range.Length, leaveOpen)
    {
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, Math.Max(0, length - position));
        if (n == 0)
        {
            return 0;
        }

        inner.Position = start + position;
        var read = inner.Read(buffer[..n]);
        position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = (int)Math.Min(buffer.Length, Math.Max(0, length - position));
        if (n == 0)
        {
            return 0;
        }

        inner.Position = start + position;
        var read = await inner.ReadAsync(buffer[..n], cancellationToken).ConfigureAwait(false);
        position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        Position = target;
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!leaveOpen)
        {
            await inner.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}