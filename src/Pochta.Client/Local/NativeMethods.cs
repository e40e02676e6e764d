using System.Runtime.InteropServices;

namespace Pochta.Client.Local;

internal static partial class NativeMethods
{
    private const int ReadOnly = 0; // O_RDONLY

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    // Linux values (x86-64 and arm64 alike).
    private const int FSetLock = 6; // F_SETLK
    private const short FWriteLock = 1; // F_WRLCK
    private const short FUnlock = 2; // F_UNLCK
    private const int LockExclusive = 2; // LOCK_EX
    private const int LockNonBlocking = 4; // LOCK_NB
    private const int LockRelease = 8; // LOCK_UN
    private const int NoSuchProcess = 3; // ESRCH

    /// <summary>struct flock (64-bit Linux): l_type, l_whence, l_start, l_len, l_pid.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct FileLock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeHandle fd, int command, ref FileLock fileLock);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeHandle fd, int operation);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>fcntl(F_SETLK, F_WRLCK) on the whole file without waiting; false when another process holds a lock.</summary>
    public static bool TryFcntlWriteLock(SafeHandle fd)
    {
        var fileLock = new FileLock { Type = FWriteLock, Whence = 0, Start = 0, Length = 0 };
        if (Fcntl(fd, FSetLock, ref fileLock) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno is 11 or 13 ? false : throw new IOException($"fcntl lock failed (errno {errno})"); // EAGAIN, EACCES: held by another
    }

    public static void FcntlUnlock(SafeHandle fd)
    {
        var fileLock = new FileLock { Type = FUnlock, Whence = 0, Start = 0, Length = 0 };
        _ = Fcntl(fd, FSetLock, ref fileLock);
    }

    /// <summary>flock(LOCK_EX | LOCK_NB); false when another open file holds it.</summary>
    public static bool TryFlockExclusive(SafeHandle fd)
    {
        if (Flock(fd, LockExclusive | LockNonBlocking) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == 11 ? false : throw new IOException($"flock failed (errno {errno})"); // EWOULDBLOCK
    }

    public static void FlockUnlock(SafeHandle fd) => _ = Flock(fd, LockRelease);

    /// <summary>kill(pid, 0): false only when no such process exists (ESRCH); a process of
    /// another user (EPERM) exists.</summary>
    public static bool ProcessExists(int pid) =>
        OperatingSystem.IsWindows() || Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != NoSuchProcess;

    /// <summary>fsync(2) on a directory, so a rename within it is durable (POSIX leaves rename
    /// durability to the directory's own sync). A no-op on Windows.</summary>
    public static void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Open(path, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {path} (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (FSync(fd) != 0)
            {
                throw new IOException($"fsync of {path} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }
}