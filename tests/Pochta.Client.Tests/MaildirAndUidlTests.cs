using System.Text;

using Microsoft.Extensions.Time.Testing;

using Pochta.Client.Local;

namespace Pochta.Client.Tests;

public class MaildirAndUidlTests
{
    [Fact]
    public async Task Deliver_PutsExactBytesInNew_LeavesTmpEmpty_OwnerOnly()
    {
        using var dir = new TempDirectory();
        var writer = new MaildirWriter(dir.Combine("Maildir"), new FakeTimeProvider());
        writer.EnsureCreated();
        var bytes = Encoding.ASCII.GetBytes("Subject: a\r\n\r\nbody\r\n");

        var first = await writer.DeliverAsync(new MemoryStream(bytes), CancellationToken.None);
        var second = await writer.DeliverAsync(new MemoryStream(bytes), CancellationToken.None);

        Assert.NotEqual(first, second);
        Assert.Equal(writer.NewDirectory, Path.GetDirectoryName(first));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(first));
        Assert.Empty(Directory.GetFiles(writer.TmpDirectory));
        Assert.True(Directory.Exists(writer.CurDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(first));
        Assert.DoesNotContain(':', Path.GetFileName(first));
    }

    [Fact]
    public async Task Deliver_FailedCopyLeavesNothingBehind()
    {
        using var dir = new TempDirectory();
        var writer = new MaildirWriter(dir.Combine("Maildir"), TimeProvider.System);
        writer.EnsureCreated();
        await Assert.ThrowsAsync<IOException>(() => writer.DeliverAsync(new FailingStream(), CancellationToken.None));
        Assert.Empty(Directory.GetFiles(writer.TmpDirectory));
        Assert.Empty(Directory.GetFiles(writer.NewDirectory));
    }

    [Fact]
    public async Task Mbox_AppendsMboxrd()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 2, 3, 4, 5, 6, TimeSpan.Zero));
        var mbox = new MboxWriter(dir.Combine("mail", "inbox.mbox"), time);
        mbox.EnsureCreated();
        await mbox.DeliverAsync(new MemoryStream(Encoding.Latin1.GetBytes("Subject: a\r\n\r\nFrom here\r\n>From there\r\n\xE9\r\n")), CancellationToken.None);
        await mbox.DeliverAsync(new MemoryStream(Encoding.ASCII.GetBytes("Subject: b\r\n\r\nb\r\n")), CancellationToken.None);

        var text = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(mbox.Location));
        Assert.Equal(
            "From MAILER-DAEMON Tue Feb  3 04:05:06 2026\nSubject: a\n\n>From here\n>>From there\n\xE9\n\n"
            + "From MAILER-DAEMON Tue Feb  3 04:05:06 2026\nSubject: b\n\nb\n\n",
            text);
    }

    [Fact]
    public async Task Mbox_FailedAppendIsTruncatedAway()
    {
        using var dir = new TempDirectory();
        var mbox = new MboxWriter(dir.Combine("inbox"), TimeProvider.System);
        await mbox.DeliverAsync(new MemoryStream(Encoding.ASCII.GetBytes("Subject: a\r\n\r\na\r\n")), CancellationToken.None);
        var before = await File.ReadAllBytesAsync(mbox.Location);
        await Assert.ThrowsAsync<IOException>(() => mbox.DeliverAsync(new FailingStream(), CancellationToken.None));
        Assert.Equal(before, await File.ReadAllBytesAsync(mbox.Location));
    }

    [Fact]
    public async Task Uidl_AddLoadRetain()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("state", "acct");
        var state = await UidlState.LoadAsync(path, CancellationToken.None);
        await state.AddAsync("uid-1", CancellationToken.None);
        await state.AddAsync("uid-2", CancellationToken.None);
        await state.AddAsync("uid-1", CancellationToken.None);
        Assert.Equal("uid-1\nuid-2\n", await File.ReadAllTextAsync(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        var reloaded = await UidlState.LoadAsync(path, CancellationToken.None);
        Assert.True(reloaded.Contains("uid-1"));
        Assert.True(reloaded.Contains("uid-2"));
        Assert.False(reloaded.Contains("uid-3"));

        await reloaded.RetainAsync(["uid-2", "uid-9"], CancellationToken.None);
        Assert.Equal("uid-2\n", await File.ReadAllTextAsync(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("line\nbreak")]
    [InlineData("ü")]
    public async Task Uidl_RejectsIdsOutsideRfc1939(string id)
    {
        using var dir = new TempDirectory();
        var state = await UidlState.LoadAsync(dir.Combine("s"), CancellationToken.None);
        Assert.False(UidlState.IsValidId(id));
        await Assert.ThrowsAsync<ArgumentException>(() => state.AddAsync(id, CancellationToken.None));
        Assert.False(UidlState.IsValidId(new string('x', 71)));
        Assert.True(UidlState.IsValidId(new string('x', 70)));
    }

    private sealed class FailingStream : Stream
    {
        private int _reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_reads++ > 0)
            {
                throw new IOException("connection reset");
            }

            buffer[offset] = (byte)'X';
            return 1;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_reads++ > 0)
            {
                throw new IOException("connection reset");
            }

            buffer.Span[0] = (byte)'X';
            return ValueTask.FromResult(1);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}