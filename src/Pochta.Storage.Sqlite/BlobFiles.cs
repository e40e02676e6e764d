using Microsoft.Extensions.Logging;

namespace Pochta.Storage.Sqlite;

/// <summary>
/// Large blobs as files <c>blobs/ab/cdef…</c> (the SHA-256 in hex split after two digits).
/// A file is made durable (data fsynced when staged, hard link + directory fsync here) before
/// the transaction that references it commits, so a committed row never names a missing file;
/// a file without a row (crash between the two) is removed by recovery.
/// <para>Race rule: a committer marks the hash in flight before it looks at or creates the
/// file and unmarks it after its transaction finished; a file is unlinked only under the lock,
/// when no committer has it in flight and no blobs row names it.</para>
/// </summary>
internal sealed class BlobFiles(string root, ILogger logger, Func<bool> mayUnlink)
{
    private readonly Dictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public string Root { get; } = root;

    public string PathOf(string hash) => Path.Combine(Root, hash[..2], hash[2..]);

    public void EnsureLayout()
    {
        SqliteMailStore.CreatePrivateDirectory(Root);
        var created = false;
        for (var i = 0; i < 256; i++)
        {
            var dir = Path.Combine(Root, i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            if (!Directory.Exists(dir))
            {
                SqliteMailStore.CreatePrivateDirectory(dir);
                created = true;
            }
        }

        if (created)
        {
            NativeFile.FsyncDirectory(Root);
            NativeFile.FsyncDirectory(Path.GetDirectoryName(Root)!);
        }
    }

    public void Acquire(string hash)
    {
        lock (_lock)
        {
            _inFlight[hash] = _inFlight.GetValueOrDefault(hash) + 1;
        }
    }

    public void Release(string hash)
    {
        lock (_lock)
        {
            var n = _inFlight[hash] - 1;
            if (n == 0)
            {
                _inFlight.Remove(hash);
            }
            else
            {
                _inFlight[hash] = n;
            }
        }
    }

    /// <summary>Makes the staged file durable under its content name (caller holds <see cref="Acquire"/>).</summary>
    public void Publish(string stagedPath, string hash)
    {
        var target = PathOf(hash);
        if (!File.Exists(target))
        {
            NativeFile.TryLink(stagedPath, target);
        }

        // Always: the name may come from a concurrent committer that has not fsynced yet.
        NativeFile.FsyncDirectory(Path.GetDirectoryName(target)!);
    }

    /// <summary>Unlinks the files of hashes that may have lost their last reference, unless a
    /// committer has them in flight or a blobs row (checked with <paramref name="isReferenced"/>
    /// on committed state) still names them.</summary>
    public void Collect(IEnumerable<string> hashes, Func<string, bool> isReferenced)
    {
        // Only the directory's owner unlinks (see SqliteMailStore.TryTakeOwnership).
        if (!mayUnlink())
        {
            return;
        }

        // No directory fsync: a crash that resurrects an unlinked name leaves a file without
        // a row, which recovery removes.
        lock (_lock)
        {
            foreach (var hash in hashes)
            {
                if (_inFlight.ContainsKey(hash) || isReferenced(hash))
                {
                    continue;
                }

                var path = PathOf(hash);
                try
                {
                    File.Delete(path);
                }
                catch (IOException ex)
                {
                    logger.LogWarning(ex, "Could not remove blob file {Hash}; recovery will retry", hash);
                }
            }
        }
    }

    /// <summary>Recovery: every blob file whose hash has no blobs row. Returns how many went.</summary>
    public int RemoveUnreferenced(Func<string, bool> isReferenced)
    {
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var prefix = Path.GetFileName(dir);
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                var hash = prefix + Path.GetFileName(file);
                if (hash.Length == 64 && isReferenced(hash))
                {
                    continue;
                }

                File.Delete(file);
                count++;
            }
        }

        return count;
    }
}