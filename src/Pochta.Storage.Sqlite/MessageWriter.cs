using System.Security.Cryptography;

namespace Pochta.Storage.Sqlite;

/// <summary>Receives a body: in memory up to the small-blob threshold, then spilled to a temp
/// file under <c>tmp/</c> (never the whole large message in memory). SHA-256 is computed as
/// bytes arrive.</summary>
internal sealed class MessageWriter(string tempDirectory, int threshold) : IMessageWriter
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private MemoryStream? _memory = new();
    private FileStream? _file;
    private string? _path;
    private bool _completed;

    public long Length { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _hash.AppendData(data.Span);
        Length += data.Length;
        if (_memory is not null && Length > threshold)
        {
            _path = Path.Combine(tempDirectory, Guid.NewGuid().ToString("N") + ".msg");
            _file = new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 81920, FileOptions.Asynchronous);
            await _file.WriteAsync(_memory.GetBuffer().AsMemory(0, (int)_memory.Length), cancellationToken).ConfigureAwait(false);
            await _memory.DisposeAsync().ConfigureAwait(false);
            _memory = null;
        }

        if (_file is not null)
        {
            await _file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            _memory!.Write(data.Span);
        }
    }

    public async ValueTask<StagedMessage> CompleteAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        var hash = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (_file is not null)
        {
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            _file.Flush(flushToDisk: true);
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
            var staged = new FileStagedMessage(_path!, Length, hash);
            _path = null;
            return staged;
        }

        var bytes = _memory!.ToArray();
        _memory = null;
        return new MemoryStagedMessage(bytes, hash);
    }

    public async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        if (_memory is not null)
        {
            await _memory.DisposeAsync().ConfigureAwait(false);
            _memory = null;
        }

        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
        }

        // Not completed: discard the partial body.
        if (_path is not null)
        {
            TryDelete(_path);
            _path = null;
        }

        _completed = true;
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Recovery clears tmp/ at the next start.
        }
    }
}

/// <summary>A staged body small enough to live in the database.</summary>
internal sealed class MemoryStagedMessage(byte[] bytes, string hash) : StagedMessage
{
    public byte[] Bytes { get; } = bytes;

    public override long Length => Bytes.Length;

    public override string ContentHash { get; } = hash;

    public override Stream OpenRead() => new MemoryStream(Bytes, writable: false);

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A staged body in an fsynced temp file; committing hard-links it into blobs/.</summary>
internal sealed class FileStagedMessage(string path, long length, string hash) : StagedMessage
{
    private int _disposed;

    public string Path { get; } = path;

    public override long Length { get; } = length;

    public override string ContentHash { get; } = hash;

    public override Stream OpenRead()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, FileOptions.Asynchronous);
    }

    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            MessageWriter.TryDelete(Path);
        }

        return ValueTask.CompletedTask;
    }
}