using System.Buffers;

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

    /// <summary>A copy of <paramref name="data"/> (a value SQLite holds only until its statement moves on).</summary>
    public static PooledMemoryStream CopyOf(ReadOnlySpan<byte> data)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 1));
        data.CopyTo(rented);
        return new PooledMemoryStream(rented, data.Length);
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