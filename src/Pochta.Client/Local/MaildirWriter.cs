using System.Globalization;
using System.Text;

namespace Pochta.Client.Local;

/// <summary>
/// Delivers into a Maildir (cr.yp.to/proto/maildir.html): write the message to tmp/ under a
/// unique name, fsync it, rename it into new/, fsync new/. A message is either wholly in new/ or
/// absent (a crash leaves at most a file in tmp/, which readers ignore).
/// </summary>
internal sealed class MaildirWriter : IMessageSink
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static int s_sequence;

    private readonly TimeProvider _time;
    private readonly string _host;

    public MaildirWriter(string root, TimeProvider time)
    {
        Root = Path.GetFullPath(root);
        _time = time;
        _host = EscapeHost(Environment.MachineName);
    }

    public string Root { get; }

    public string Location => Root;

    public string TmpDirectory => Path.Combine(Root, "tmp");

    public string NewDirectory => Path.Combine(Root, "new");

    public string CurDirectory => Path.Combine(Root, "cur");

    /// <summary>Creates root, tmp, new and cur (mode 0700) when missing.</summary>
    public void EnsureCreated()
    {
        foreach (var directory in new[] { Root, TmpDirectory, NewDirectory, CurDirectory })
        {
            if (!Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, DirectoryMode);
                }
            }
        }
    }

    /// <summary>Copies <paramref name="message"/> into new/ durably; returns the file's path.</summary>
    public async Task<string> DeliverAsync(Stream message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var name = UniqueName();
        var temporary = Path.Combine(TmpDirectory, name);
        var final = Path.Combine(NewDirectory, name);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var file = new FileStream(temporary, options))
            {
                await message.CopyToAsync(file, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, final, overwrite: false);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        NativeMethods.SyncDirectory(NewDirectory);
        return final;
    }

    /// <summary>time.MusecPpidQseq.host — unique per host, process and delivery.</summary>
    private string UniqueName()
    {
        var now = _time.GetUtcNow();
        var seconds = now.ToUnixTimeSeconds();
        var microseconds = (now.Ticks / 10) % 1_000_000;
        var sequence = Interlocked.Increment(ref s_sequence);
        return string.Create(CultureInfo.InvariantCulture, $"{seconds}.M{microseconds}P{Environment.ProcessId}Q{sequence}.{_host}");
    }

    /// <summary>The spec: '/' as \057 and ':' as \072 in the host part.</summary>
    private static string EscapeHost(string host)
    {
        var builder = new StringBuilder(host.Length);
        foreach (var c in host)
        {
            builder.Append(c switch
            {
                '/' => "\\057",
                ':' => "\\072",
                _ => c.ToString(),
            });
        }

        return builder.Length == 0 ? "localhost" : builder.ToString();
    }
}