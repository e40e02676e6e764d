using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Pochta.Storage.Sqlite;

/// <summary>The two POSIX calls .NET lacks: hard links and fsync of a directory (so a
/// rename/link is durable). On Windows the caller falls back to copy and NTFS metadata
/// journaling.</summary>
internal static partial class NativeFile
{
    private const int EEXIST = 17;

    /// <summary>Creates <paramref name="target"/> as a hard link to <paramref name="source"/>.
    /// Returns false when the target already exists.</summary>
    public static bool TryLink(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            if (File.Exists(target))
            {
                return false;
            }

            File.Copy(source, target);
            using var stream = new FileStream(target, FileMode.Open, FileAccess.ReadWrite);
            stream.Flush(flushToDisk: true);
            return true;
        }

        if (link(source, target) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST)
        {
            return false;
        }

        throw new IOException($"link failed for {target}", new Win32Exception(errno));
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