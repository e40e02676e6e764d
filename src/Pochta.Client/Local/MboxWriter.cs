using System.Globalization;
using System.Text;

namespace Pochta.Client.Local;

/// <summary>
/// Appends to an mbox file in the mboxrd convention: each message starts with a
/// <c>From sender asctime</c> line, body lines matching <c>&gt;*From </c> gain one more
/// <c>&gt;</c>, line ends are LF, a blank line follows each message. Each append is fsynced;
/// a failed append is truncated away so no partial message remains.
/// </summary>
internal sealed class MboxWriter(string path, TimeProvider time) : IMessageSink
{
    public string Location { get; } = Path.GetFullPath(path);

    public void EnsureCreated()
    {
        var directory = Path.GetDirectoryName(Location)!;
        Directory.CreateDirectory(directory);
    }

    public async Task<string> DeliverAsync(Stream message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var file = new FileStream(Location, options);
        var start = file.Length;
        file.Seek(0, SeekOrigin.End);
        try
        {
            var separator = string.Create(CultureInfo.InvariantCulture, $"From MAILER-DAEMON {time.GetUtcNow():ddd MMM d HH:mm:ss yyyy}\n");
            await file.WriteAsync(Encoding.ASCII.GetBytes(separator), cancellationToken);
            await WriteQuotedAsync(message, file, cancellationToken);
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

    private static async Task WriteQuotedAsync(Stream message, Stream output, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(message, Encoding.Latin1, detectEncodingFromByteOrderMarks: false);
        var buffer = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            var quoted = line.AsSpan().TrimStart('>').StartsWith("From ", StringComparison.Ordinal);
            buffer.Clear();
            if (quoted)
            {
                buffer.Append('>');
            }

            buffer.Append(line).Append('\n');

            // Latin-1 maps bytes 1:1, so 8-bit content passes through unchanged.
            await output.WriteAsync(Encoding.Latin1.GetBytes(buffer.ToString()), cancellationToken);
        }
    }
}