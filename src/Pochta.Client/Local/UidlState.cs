using System.Text;

namespace Pochta.Client.Local;

/// <summary>
/// The POP3 unique-ids (RFC 1939 §7 UIDL) already downloaded from one server mailbox: one id per
/// line. Each id is appended and fsynced right after its message is safely in the Maildir and
/// before DELE, so an interrupted fetch never downloads a message twice nor loses one.
/// </summary>
internal sealed class UidlState
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

    private UidlState(string path) => Path = path;

    public string Path { get; }

    public int Count => _ids.Count;

    public static async Task<UidlState> LoadAsync(string path, CancellationToken cancellationToken)
    {
        var state = new UidlState(path);
        if (File.Exists(path))
        {
            foreach (var line in await File.ReadAllLinesAsync(path, Encoding.ASCII, cancellationToken))
            {
                if (line.Length > 0)
                {
                    state._ids.Add(line);
                }
            }
        }

        return state;
    }

    public bool Contains(string id) => _ids.Contains(id);

    /// <summary>Records <paramref name="id"/> durably (append + fsync).</summary>
    public async Task AddAsync(string id, CancellationToken cancellationToken)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException("Not a valid POP3 unique-id.", nameof(id));
        }

        if (!_ids.Add(id))
        {
            return;
        }

        EnsureDirectory();
        var created = !File.Exists(Path);
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var file = new FileStream(Path, options))
        {
            var bytes = Encoding.ASCII.GetBytes(id + "\n");
            await file.WriteAsync(bytes, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        if (created)
        {
            NativeMethods.SyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
        }
    }

    /// <summary>Keeps only ids still on the server (others were deleted there and cannot recur),
    /// rewriting the file atomically.</summary>
    public async Task RetainAsync(IReadOnlyCollection<string> present, CancellationToken cancellationToken)
    {
        var keep = new HashSet<string>(present, StringComparer.Ordinal);
        if (_ids.All(keep.Contains))
        {
            return;
        }

        _ids.IntersectWith(keep);
        EnsureDirectory();
        var temporary = Path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var file = new FileStream(temporary, options))
        {
            var text = new StringBuilder();
            foreach (var id in _ids.Order(StringComparer.Ordinal))
            {
                text.Append(id).Append('\n');
            }

            await file.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()), cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
        NativeMethods.SyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
    }

    /// <summary>RFC 1939 §7: 1 to 70 characters in 0x21..0x7E.</summary>
    public static bool IsValidId(string id) =>
        id.Length is >= 1 and <= 70 && !id.AsSpan().ContainsAnyExceptInRange('\u0021', '\u007E');

    private void EnsureDirectory()
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
    }
}