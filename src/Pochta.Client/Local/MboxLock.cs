using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Pochta.Client.Local;

/// <summary>How long to wait for a locked mbox and when a dot-lock counts as abandoned.</summary>
internal sealed record MboxLockOptions
{
    public static MboxLockOptions Default { get; } = new();

    /// <summary>Give up (the mailbox stays untouched) after trying this long.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Pause between attempts.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A dot-lock older than this is stale even when its holder cannot be checked
    /// (liblockfile and mutt use 5 minutes; procmail 1024 s).</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The locks every Debian mailbox program takes before writing an mbox (Debian Policy §11.6:
/// "fcntl() locking must be combined with dot locking", fcntl first, each tried without
/// blocking so that two programs taking them in another order cannot deadlock): an fcntl
/// (POSIX record) write lock on the whole file, as mutt, procmail and Dovecot take it; an
/// flock(2) lock, for programs configured for it (on Linux the two are independent); and the
/// dot-lock <c>FILE.lock</c>, created with O_CREAT|O_EXCL and holding our PID in ASCII
/// (liblockfile's format). A dot-lock whose PID names no live process on this host, or older
/// than <see cref="MboxLockOptions.StaleAfter"/>, is removed as stale. Released in the
/// reverse order; the dot-lock is removed only if it is still ours.
/// Leniency: when the directory does not let us create <c>FILE.lock</c> (a spool directory
/// writable only by group mail; this program is not setgid mail) the kernel locks alone are
/// used, as mutt does without its dotlock helper.
/// </summary>
internal sealed class MboxLock : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly string? _dotLock;
    private readonly string _token;

    private MboxLock(FileStream file, string? dotLock, string token)
    {
        _file = file;
        _dotLock = dotLock;
        _token = token;
    }

    public FileStream File => _file;

    /// <summary>Opens (creating, mode 0600) and locks the mbox; the lock is released and the
    /// file closed by <see cref="DisposeAsync"/>.</summary>
    public static async Task<MboxLock> OpenAsync(string path, MboxLockOptions options, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + options.Timeout;
        var open = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows())
        {
            open.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        FileStream file;
        while (true)
        {
            try
            {
                // .NET takes a shared flock(2) at open and fails at once while another process
                // holds it exclusively: that is "locked", retried like the locks below.
                file = new FileStream(path, open);
                break;
            }
            catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException && System.IO.File.Exists(path))
            {
                await PauseAsync(deadline, options, path, cancellationToken).ConfigureAwait(false);
            }
        }

        try
        {
            return await AcquireAsync(file, path, deadline, options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<MboxLock> AcquireAsync(FileStream file, string path, DateTime deadline, MboxLockOptions options, CancellationToken cancellationToken)
    {
        var fd = file.SafeFileHandle;
        var kernelLocked = false;
        try
        {
            while (!TryKernelLocks(fd))
            {
                await PauseAsync(deadline, options, path, cancellationToken).ConfigureAwait(false);
            }

            kernelLocked = true;
            var token = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n";
            var dotLock = path + ".lock";
            while (true)
            {
                switch (TryCreateDotLock(dotLock, token))
                {
                    case DotLockResult.Created:
                        return new MboxLock(file, dotLock, token);
                    case DotLockResult.NotPermitted:
                        return new MboxLock(file, null, token);
                    default:
                        if (IsStale(dotLock, options))
                        {
                            System.IO.File.Delete(dotLock);
                            continue;
                        }

                        await PauseAsync(deadline, options, path, cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch when (kernelLocked)
        {
            ReleaseKernelLocks(fd);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_dotLock is not null && ReadLockText(_dotLock) == _token)
            {
                System.IO.File.Delete(_dotLock);
            }
        }
        finally
        {
            ReleaseKernelLocks(_file.SafeFileHandle);
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task PauseAsync(DateTime deadline, MboxLockOptions options, string path, CancellationToken cancellationToken)
    {
        if (DateTime.UtcNow >= deadline)
        {
            throw new IOException($"mailbox {path} is locked by another program; nothing was written");
        }

        await Task.Delay(options.RetryDelay, cancellationToken).ConfigureAwait(false);
    }

    private enum DotLockResult
    {
        Created,
        Exists,
        NotPermitted,
    }

    private static DotLockResult TryCreateDotLock(string dotLock, string token)
    {
        try
        {
            // FileMode.CreateNew is open(O_CREAT | O_EXCL): exactly one creator wins.
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            }

            using var lockFile = new FileStream(dotLock, options);
            lockFile.Write(Encoding.ASCII.GetBytes(token));
            lockFile.Flush(flushToDisk: true);
            return DotLockResult.Created;
        }
        catch (UnauthorizedAccessException)
        {
            return System.IO.File.Exists(dotLock) ? DotLockResult.Exists : DotLockResult.NotPermitted;
        }
        catch (IOException) when (System.IO.File.Exists(dotLock))
        {
            return DotLockResult.Exists;
        }
    }

    /// <summary>Stale: the holder's PID (liblockfile writes it in ASCII) is not a live process,
    /// or the lock is older than the limit (a holder on another host, or no PID in it).</summary>
    private static bool IsStale(string dotLock, MboxLockOptions options)
    {
        DateTime written;
        try
        {
            written = System.IO.File.GetLastWriteTimeUtc(dotLock);
        }
        catch (IOException)
        {
            return false;
        }

        if (DateTime.UtcNow - written > options.StaleAfter)
        {
            return true;
        }

        var text = ReadLockText(dotLock);
        return text is not null
            && int.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && pid > 0
            && !NativeMethods.ProcessExists(pid);
    }

    private static string? ReadLockText(string dotLock)
    {
        try
        {
            var bytes = System.IO.File.ReadAllBytes(dotLock);
            return bytes.Length > 64 ? null : Encoding.ASCII.GetString(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool TryKernelLocks(SafeHandle fd)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        if (!NativeMethods.TryFcntlWriteLock(fd))
        {
            return false;
        }

        if (!NativeMethods.TryFlockExclusive(fd))
        {
            NativeMethods.FcntlUnlock(fd);
            return false;
        }

        return true;
    }

    private static void ReleaseKernelLocks(SafeHandle fd)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        NativeMethods.FlockUnlock(fd);
        NativeMethods.FcntlUnlock(fd);
    }
}