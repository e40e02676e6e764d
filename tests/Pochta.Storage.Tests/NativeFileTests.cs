using Pochta.Storage.Sqlite;

namespace Pochta.Storage.Tests;

public sealed class NativeFileTests
{
    [Fact]
    public void Link_publishes_once_and_keeps_the_source()
    {
        using var dir = new TempDirectory();
        var source = Path.Combine(dir.Path, "s");
        var target = Path.Combine(dir.Path, "t");
        File.WriteAllBytes(source, [1, 2, 3]);
        Assert.True(NativeFile.TryLink(source, target));
        Assert.False(NativeFile.TryLink(source, target));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(target));
        File.Delete(source);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(target));
        NativeFile.FsyncDirectory(dir.Path);
    }

    [Fact]
    public void Copy_fallback_leaves_no_partial_file()
    {
        using var dir = new TempDirectory();
        var source = Path.Combine(dir.Path, "s");
        var target = Path.Combine(dir.Path, "t");
        File.WriteAllBytes(source, [4, 5]);
        Assert.True(NativeFile.CopyDurably(source, target));
        Assert.False(NativeFile.CopyDurably(source, target));
        Assert.Equal([4, 5], File.ReadAllBytes(target));
        Assert.Equal(["s", "t"], Directory.EnumerateFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Fsync_of_a_missing_directory_fails()
    {
        using var dir = new TempDirectory();
        Assert.Throws<IOException>(() => NativeFile.FsyncDirectory(Path.Combine(dir.Path, "missing")));
    }
}