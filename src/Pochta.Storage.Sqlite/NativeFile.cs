using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Pochta.Storage.Sqlite;

/// <summary>The two POSIX calls .NET lacks: hard links and fsync of a directory (so a
/// rename/link is durable). Without hard links (Windows, some file systems) bodies are copied.</summary>
internal static partial class NativeFile
{
    private const int EEXIST = 17;

    /// <summary>Creates <paramref name="target"/> as a hard link to <paramref name="source"/>.
    /// Returns false when the target already exists.</summary>
    public static bool TryLink(string source, string target)
    {
        if (!OperatingSystem.IsWindows())
        {
            if (link(source, target) == 0)
            {
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == EEXIST)
            {
                return false;
            }

            // EPERM/EXDEV/ENOTSUP: a file system without hard links; copy instead.
        }

        return CopyDurably(source, target);
    }

    /// <summary>Copies to a temporary sibling, fsyncs it, then renames it into place, so the
    /// target name never shows a partial body.</summary>
    internal static bool CopyDurably(string source, string target)
    {
        if (File.Exists(target))
        {
            return false;
        }

        var temp = target + "." + Guid.NewGuid().ToString("N") + ".part";
        try
        {
            File.Copy(source, temp);
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
            {
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, target, overwrite: true);
            return true;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Makes the directory's entries (a new name, a removed name) durable.</summary>
    public static void FsyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = open(path, 0);
        if (fd < 0)
        {
            throw new IOException($"open failed for {path}", new Win32Exception(Marshal.GetLastPInvokeError()));
        }

        try
        {
            if (fsync(fd) != 0)
            {
                throw new IOException($"fsync failed for {path}", new Win32Exception(Marshal.GetLastPInvokeError()));
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string oldpath, string newpath);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}