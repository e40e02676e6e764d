using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Pochta.LoadGen.Wire;

/// <summary>
/// Lean line-oriented client connection: a socket (optionally TLS) with a PipeReader for replies
/// and direct writes for commands. It allocates nothing per reply on the hot path, so the load
/// generator costs the shared CPU as little as possible and the figures measure the server.
/// </summary>
internal sealed class LineClient : IAsyncDisposable
{
    private readonly Socket socket;
    private Stream stream;
    private PipeReader reader;
    private byte[] lineCopy = new byte[1024];

    private LineClient(Socket socket)
    {
        this.socket = socket;
        stream = new NetworkStream(socket, ownsSocket: false);
        reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
    }

    public long BytesRead { get; private set; }

    public static async Task<LineClient> ConnectAsync(Endpoint endpoint, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint.Host, endpoint.Port, ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new LineClient(socket);
        if (endpoint.ImplicitTls)
        {
            await client.StartTlsAsync(endpoint, ct);
        }

        return client;
    }

    /// <summary>Switches the connection to TLS. Call only when the server has nothing more to send in clear.</summary>
    public async Task StartTlsAsync(Endpoint endpoint, CancellationToken ct)
    {
        await reader.CompleteAsync();
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions { TargetHost = endpoint.Host };
        if (endpoint.TrustedCertificates is { } trusted)
        {
            // Trust exactly the given certificates (a self-signed benchmark server), never "anything".
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(trusted);
        }

        await ssl.AuthenticateAsClientAsync(options, ct);
        stream = ssl;
        reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct) => stream.WriteAsync(data, ct);

    public ValueTask WriteAsync(string ascii, CancellationToken ct) => stream.WriteAsync(Encoding.ASCII.GetBytes(ascii), ct);

    /// <summary>Reads one line (without CRLF) and passes it to <paramref name="onLine"/>.</summary>
    public async ValueTask<T> ReadLineAsync<T>(LineParser<T> onLine, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is { } end)
            {
                var line = buffer.Slice(0, end);
                T value = Invoke(line, onLine);
                var consumed = buffer.GetPosition(1, end);
                BytesRead += buffer.Slice(0, consumed).Length;
                reader.AdvanceTo(consumed);
                return value;
            }

            if (buffer.Length > 1024 * 1024)
            {
                throw new ProtocolException("reply line longer than 1 MiB");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new ProtocolException("connection closed by server");
            }
        }
    }

    private T Invoke<T>(ReadOnlySequence<byte> line, LineParser<T> onLine)
    {
        ReadOnlySpan<byte> span;
        if (line.IsSingleSegment)
        {
            span = line.FirstSpan;
        }
        else
        {
            if (lineCopy.Length < line.Length)
            {
                lineCopy = new byte[(int)line.Length * 2];
            }

            line.CopyTo(lineCopy);
            span = lineCopy.AsSpan(0, (int)line.Length);
        }

        if (span.Length > 0 && span[^1] == (byte)'\r')
        {
            span = span[..^1];
        }

        return onLine(span);
    }

    /// <summary>Discards exactly <paramref name="count"/> bytes (an IMAP literal).</summary>
    public async ValueTask SkipAsync(long count, CancellationToken ct)
    {
        while (count > 0)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            long take = Math.Min(count, buffer.Length);
            count -= take;
            BytesRead += take;
            reader.AdvanceTo(buffer.GetPosition(take));
            if (count > 0 && result.IsCompleted)
            {
                throw new ProtocolException("connection closed inside a literal");
            }
        }
    }

    /// <summary>
    /// Discards a dot-terminated multi-line block (POP3 RETR/LIST/UIDL, SMTP never) up to and
    /// including the terminating ".CRLF", right after the status line. Returns the bytes skipped.
    /// </summary>
    public async ValueTask<long> SkipDotTerminatedAsync(CancellationToken ct)
    {
        // State counts how much of "\r\n.\r\n" has been matched; we start just after a CRLF.
        int state = 2;
        long total = 0;
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            long consumed = 0;
            bool done = false;
            foreach (var segment in buffer)
            {
                var span = segment.Span;
                int i = 0;
                while (i < span.Length)
                {
                    if (state == 0 && span.Length - i > 4)
                    {
                        // Fast path: one vectorized search for the whole terminator per segment
                        // (not one per line). A terminator that starts in the last 4 bytes may
                        // continue in the next segment: the state machine below carries it.
                        int end = span[i..].IndexOf("\r\n.\r\n"u8);
                        if (end >= 0)
                        {
                            i += end + 5;
                            done = true;
                            break;
                        }

                        i = span.Length - 4;
                    }

                    byte b = span[i++];
                    state = Advance(state, b);
                    if (state == 5)
                    {
                        done = true;
                        break;
                    }
                }

                consumed += i;
                if (done)
                {
                    break;
                }
            }

            total += consumed;
            BytesRead += consumed;
            reader.AdvanceTo(buffer.GetPosition(consumed));
            if (done)
            {
                return total;
            }

            if (result.IsCompleted)
            {
                throw new ProtocolException("connection closed inside a multi-line response");
            }
        }

        static int Advance(int state, byte b) => (state, b) switch
        {
            (0, (byte)'\r') => 1,
            (1, (byte)'\n') => 2,
            (2, (byte)'.') => 3,
            (3, (byte)'\r') => 4,
            (4, (byte)'\n') => 5,
            (_, (byte)'\r') => 1,
            _ => 0,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await reader.CompleteAsync();
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the server.
        }

        await stream.DisposeAsync();
        socket.Dispose();
    }
}

internal delegate T LineParser<T>(ReadOnlySpan<byte> line);

internal sealed class ProtocolException(string message) : Exception(message);

/// <summary>Where to connect and how.</summary>
internal sealed record Endpoint(string Host, int Port, bool ImplicitTls, X509Certificate2Collection? TrustedCertificates);
internal static class NetErrors
{
    /// <summary>Failures of one connection that a load run counts and survives.</summary>
    public static bool IsConnectionFailure(Exception e) =>
        e is ProtocolException or IOException or System.Net.Sockets.SocketException
            or System.Security.Authentication.AuthenticationException or OperationCanceledException;
}