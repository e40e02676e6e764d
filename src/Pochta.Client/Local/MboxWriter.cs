using System.Buffers;
using System.Globalization;
using System.Text;

namespace Pochta.Client.Local;

/// <summary>
/// Appends to an mbox file in the mboxrd convention: each message starts with a
/// <c>From envelope-sender asctime</c> line (the sender from the message's Return-Path, else
/// MAILER-DAEMON), body lines matching <c>&gt;*From </c> gain one more <c>&gt;</c>, line ends
/// are LF (CR LF and lone LF alike; any other CR is content), and a blank line follows each
/// message. The file is locked as every Debian mailbox program locks it (<see cref="MboxLock"/>:
/// fcntl, flock and <c>FILE.lock</c>) for the whole append; each append is fsynced, and a
/// failed append is truncated away so no partial message remains.
/// </summary>
internal sealed class MboxWriter(string path, TimeProvider time, MboxLockOptions? lockOptions = null) : IMessageSink
{
    private const int MaxHeaderBytes = 256 * 1024;

    public string Location { get; } = Path.GetFullPath(path);

    public void EnsureCreated()
    {
        var directory = Path.GetDirectoryName(Location)!;
        Directory.CreateDirectory(directory);
    }

    public async Task<string> DeliverAsync(Stream message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await using var locked = await MboxLock.OpenAsync(Location, lockOptions ?? MboxLockOptions.Default, cancellationToken);
        var file = locked.File;
        var start = file.Length;
        try
        {
            // mboxrd readers find a message at "From " after an empty line: a file left by
            // another program without the final empty line gets one first.
            var prefix = new string('\n', await MissingNewlinesAsync(file, start, cancellationToken));
            file.Seek(0, SeekOrigin.End);
            var lines = new LineReader(message);
            var header = await ReadHeaderAsync(lines, cancellationToken);
            var sender = EnvelopeSender(header) ?? "MAILER-DAEMON";
            var separator = prefix + "From " + sender + " " + AscTime(time.GetUtcNow()) + "\n";
            await file.WriteAsync(Encoding.ASCII.GetBytes(separator), cancellationToken);
            foreach (var line in header)
            {
                await WriteLineAsync(file, line, cancellationToken);
            }

            while (await lines.ReadLineAsync(cancellationToken) is { } line)
            {
                await WriteLineAsync(file, line, cancellationToken);
            }

            await file.WriteAsync("\n"u8.ToArray(), cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }
        catch
        {
            file.SetLength(start);
            file.Flush(flushToDisk: true);
            throw;
        }

        return Location;
    }

    /// <summary>asctime(3) form, as in the From line of every mbox: "Tue Feb  3 04:05:06 2026" (day padded with a space).</summary>
    internal static string AscTime(DateTimeOffset when)
    {
        var utc = when.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{utc:ddd MMM} {utc.Day,2} {utc:HH:mm:ss yyyy}");
    }

    /// <summary>The addr-spec of the first Return-Path field when it is a plain one (no spaces), else null.</summary>
    internal static string? EnvelopeSender(IReadOnlyList<byte[]> header)
    {
        foreach (var line in header)
        {
            if (line.Length > 12 && Encoding.ASCII.GetString(line, 0, 12).Equals("Return-Path:", StringComparison.OrdinalIgnoreCase))
            {
                var value = Encoding.Latin1.GetString(line, 12, line.Length - 12).Trim().Trim('<', '>').Trim();
                return value.Length == 0 ? "MAILER-DAEMON" : value.AsSpan().ContainsAny(" \t\r") || !Ascii.IsValid(value) ? null : value;
            }
        }

        return null;
    }

    /// <summary>How many LFs the file lacks to end in an empty line (0 for an empty file).</summary>
    private static async Task<int> MissingNewlinesAsync(FileStream file, long length, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return 0;
        }

        var tail = new byte[2];
        var want = (int)Math.Min(2, length);
        file.Seek(length - want, SeekOrigin.Begin);
        await file.ReadExactlyAsync(tail.AsMemory(0, want), cancellationToken);
        if (tail[want - 1] != '\n')
        {
            return 2;
        }

        return want == 2 && tail[0] == '\n' ? 0 : 1;
    }

    /// <summary>Header lines up to and including the empty line (bounded; a longer header is
    /// written as read, only the envelope sender is not looked for beyond it).</summary>
    private static async Task<List<byte[]>> ReadHeaderAsync(LineReader lines, CancellationToken cancellationToken)
    {
        var header = new List<byte[]>();
        var total = 0;
        while (total < MaxHeaderBytes && await lines.ReadLineAsync(cancellationToken) is { } line)
        {
            header.Add(line);
            total += line.Length;
            if (line.Length == 0)
            {
                break;
            }
        }

        return header;
    }

    private static async Task WriteLineAsync(Stream output, byte[] line, CancellationToken cancellationToken)
    {
        // mboxrd: ">*From " gains one ">" (reversible: readers remove one).
        var span = line.AsSpan();
        if (span.TrimStart((byte)'>').StartsWith("From "u8))
        {
            await output.WriteAsync(">"u8.ToArray(), cancellationToken);
        }

        await output.WriteAsync(line, cancellationToken);
        await output.WriteAsync("\n"u8.ToArray(), cancellationToken);
    }

    /// <summary>Lines as bytes without their LF or CR LF; 8-bit content passes unchanged.</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private readonly ArrayBufferWriter<byte> _line = new();
        private int _start;
        private int _end;
        private bool _eof;

        public async Task<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
        {
            _line.ResetWrittenCount();
            while (true)
            {
                var available = _buffer.AsSpan(_start, _end - _start);
                var lf = available.IndexOf((byte)'\n');
                if (lf >= 0)
                {
                    _line.Write(available[..lf]);
                    _start += lf + 1;
                    return Finish();
                }

                _line.Write(available);
                _start = _end = 0;
                if (_eof)
                {
                    return _line.WrittenCount == 0 ? null : Finish();
                }

                var read = await stream.ReadAsync(_buffer, cancellationToken);
                if (read == 0)
                {
                    _eof = true;
                }

                _end = read;
            }
        }

        private byte[] Finish()
        {
            var line = _line.WrittenSpan;
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }

            return line.ToArray();
        }
    }
}