using System.IO.Pipelines;
using System.Net.Security;
using System.Text;

namespace Pochta.Pop3.Tests.Session;

/// <summary>The client end of an in-memory POP3 connection: raw lines in and out, optionally over TLS.</summary>
internal sealed class TestClient : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);
    private readonly Pipe _toServer;
    private readonly Pipe _toClient;
    private Stream _stream;
    private readonly List<byte> _pending = [];
    private readonly byte[] _chunk = new byte[8192];

    public TestClient(Pipe toServer, Pipe toClient, Task session)
    {
        _toServer = toServer;
        _toClient = toClient;
        Session = session;
        _stream = new PipeStream(toClient.Reader, toServer.Writer);
    }

    /// <summary>Completes when the server side ended the session.</summary>
    public Task Session { get; }

    public async Task SendAsync(string text)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(text));
        await _stream.FlushAsync();
    }

    public Task SendLineAsync(string line) => SendAsync(line + "\r\n");

    /// <summary>Sends bytes as they are (8-bit and invalid UTF-8 included).</summary>
    public async Task SendBytesAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Ends the client's side of the connection (the server reads EOF); reading goes on.</summary>
    public async Task CloseOutputAsync() => await _toServer.Writer.CompleteAsync();

    /// <summary>The next line without CRLF, or null when the server closed the connection.</summary>
    public async Task<string?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        while (true)
        {
            var lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = _pending.GetRange(0, lf + 1).ToArray();
                _pending.RemoveRange(0, lf + 1);
                Assert.True(line.Length >= 2 && line[^2] == '\r', "server line must end with CRLF");
                return Encoding.UTF8.GetString(line, 0, line.Length - 2);
            }

            int n;
            try
            {
                n = await _stream.ReadAsync(_chunk, timeout.Token);
            }
            catch (IOException)
            {
                n = 0;
            }

            if (n == 0)
            {
                Assert.Empty(_pending);
                return null;
            }

            _pending.AddRange(_chunk.AsSpan(0, n).ToArray());
        }
    }

    public async Task<string> ExpectLineAsync()
    {
        var line = await ReadLineAsync();
        Assert.NotNull(line);
        return line;
    }

    /// <summary>Reads a multi-line body up to the terminating ".", undoing byte-stuffing.</summary>
    public async Task<List<string>> ReadMultilineAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ExpectLineAsync();
            if (line == ".")
            {
                return lines;
            }

            lines.Add(line.StartsWith('.') ? line[1..] : line);
        }
    }

    public async Task ExpectClosedAsync()
    {
        Assert.Null(await ReadLineAsync());
        await Session.WaitAsync(ReadTimeout);
    }

    /// <summary>Client side of STLS: TLS over the same pipes.</summary>
    public async Task StartTlsAsync()
    {
        // The test certificate is self-signed: pin it by hash instead of trusting the chain.
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: true, (_, certificate, _, _) => certificate?.GetCertHashString() == Pop3Harness.CertificateHash);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        _stream = ssl;
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        try
        {
            await Session.WaitAsync(ReadTimeout);
        }
        catch (OperationCanceledException)
        {
        }

        await _toClient.Reader.CompleteAsync();
    }

    private sealed class PipeStream(PipeReader reader, PipeWriter writer) : Stream
    {
        private readonly Stream _read = reader.AsStream(leaveOpen: true);
        private readonly Stream _write = writer.AsStream(leaveOpen: true);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => _write.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _write.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => _read.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _read.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _read.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _write.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _write.WriteAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _write.Write(buffer, offset, count);
    }
}