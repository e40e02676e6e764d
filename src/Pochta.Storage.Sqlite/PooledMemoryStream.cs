using System.Buffers;

using Microsoft.Data.Sqlite;

namespace Pochta.Storage.Sqlite;

/// <summary>
/// A read-only, seekable stream over a buffer rented from <see cref="ArrayPool{T}.Shared"/>,
/// returned to the pool when the stream is disposed (reads after that throw, as for any disposed
/// <see cref="MemoryStream"/>; the buffer itself is never exposed).
/// </summary>
internal sealed class PooledMemoryStream : MemoryStream
{
    private byte[]? _rented;

    private PooledMemoryStream(byte[] rented, int length)
        : base(rented, 0, length, writable: false, publiclyVisible: false) => _rented = rented;

    /// <summary>Reads the first <paramref name="length"/> bytes of an open blob.</summary>
    public static PooledMemoryStream ReadFrom(SqliteBlob blob, int length)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var read = 0;
            while (read < length)
            {
                var n = blob.Read(rented.AsSpan(read, length - read));
                if (n == 0)
                {
                    throw new InvalidOperationException("Stored body shorter than its recorded size.");
                }

                read += n;
            }

            return new PooledMemoryStream(rented, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (Interlocked.Exchange(ref _rented, null) is { } rented)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}