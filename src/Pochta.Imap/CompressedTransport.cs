using System.IO.Compression;
using System.IO.Pipelines;

namespace Pochta.Imap;

/// <summary>RFC 4978 COMPRESS=DEFLATE: raw DEFLATE (RFC 1951) both ways over the connection's pipes.
/// Every flush of the output ends with a sync flush so the client can decode what it got.</summary>
internal sealed class CompressedTransport : IAsyncDisposable
{
    private readonly DeflateStream _inflate;
    private readonly DeflateStream _deflate;

    public CompressedTransport(PipeReader input, PipeWriter output)
    {
        _inflate = new DeflateStream(input.AsStream(leaveOpen: true), CompressionMode.Decompress, leaveOpen: false);
        _deflate = new DeflateStream(output.AsStream(leaveOpen: true), CompressionLevel.Fastest, leaveOpen: false);
        Input = PipeReader.Create(new InflatingStream(_inflate), new StreamPipeReaderOptions(leaveOpen: true));
        Output = PipeWriter.Create(new SyncFlushStream(_deflate), new StreamPipeWriterOptions(leaveOpen: true));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Output.CompleteAsync();
            await Input.CompleteAsync();
            await _deflate.DisposeAsync();
            await _inflate.DisposeAsync();
        }
        catch (IOException)
        {
            // The peer is gone; nothing to flush.
        }
    }

    /// <summary>A client whose bytes are not a DEFLATE stream after COMPRESS has broken the
    /// connection, like a reset: the session ends as for any I/O failure (no internal-error log).</summary>
    private sealed class InflatingStream(DeflateStream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }
            catch (InvalidDataException e)
            {
                throw new IOException("The client's compressed stream is not valid DEFLATE data.", e);
            }
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Makes the pipe's flush reach the wire: DeflateStream.FlushAsync emits a sync flush block.</summary>
    private sealed class SyncFlushStream(DeflateStream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
        }
    }
}