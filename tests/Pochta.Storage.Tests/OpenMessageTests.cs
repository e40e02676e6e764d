using Pochta.Core;
using Pochta.Storage.Sqlite;

namespace Pochta.Storage.Tests;

/// <summary>OpenMessageAsync returns exactly the stored bytes on both sides of the inline/file
/// threshold (inline bodies come from one blob read into a pooled buffer).</summary>
public sealed class OpenMessageTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly TempDirectory _dir = new();
    private SqliteMailStore _store = null!;
    private long _inbox;

    private static int Threshold => new SqliteStoreOptions().SmallBlobThreshold;

    public async Task InitializeAsync()
    {
        _store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir.Path }, TimeProvider.System);
        await _store.InitializeAsync(Ct);
        await _store.Directory.AddDomainAsync("example.test", Ct);
        var account = await _store.Directory.AddAccountAsync("user@example.test", "cred", 0, Ct);
        _inbox = (await _store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", Ct))!.Id;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    public static TheoryData<int> Sizes => [0, 1, 4095, 4096, 4097, 65536, Threshold - 1, Threshold, Threshold + 1, (3 * Threshold) + 17];

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Bytes_come_back_exactly_whole_and_in_odd_chunks(int size)
    {
        var body = new byte[size];
        new Random(size).NextBytes(body);
        var id = await DeliverAsync(body);

        await using (var stream = await _store.Messages.OpenMessageAsync(id, Ct))
        {
            Assert.Equal(size, stream.Length);
            Assert.True(stream.CanSeek);
            Assert.False(stream.CanWrite);
            var copy = new MemoryStream();
            var buffer = new byte[4093];
            int n;
            while ((n = await stream.ReadAsync(buffer, Ct)) > 0)
            {
                copy.Write(buffer, 0, n);
            }

            Assert.Equal(body, copy.ToArray());
            if (size > 10)
            {
                stream.Seek(size - 10, SeekOrigin.Begin);
                Assert.Equal(body[^10..], await ReadRestAsync(stream));
            }
        }
    }

    [Fact]
    public async Task A_disposed_inline_stream_cannot_be_read_and_buffers_are_reused_safely()
    {
        var a = new byte[5000];
        var b = new byte[5000];
        new Random(1).NextBytes(a);
        new Random(2).NextBytes(b);
        var idA = await DeliverAsync(a);
        var idB = await DeliverAsync(b);

        var first = await _store.Messages.OpenMessageAsync(idA, Ct);
        await first.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => first.ReadByte());

        for (var i = 0; i < 20; i++)
        {
            await using var sa = await _store.Messages.OpenMessageAsync(idA, Ct);
            await using var sb = await _store.Messages.OpenMessageAsync(idB, Ct);
            Assert.Equal(a, await ReadRestAsync(sa));
            Assert.Equal(b, await ReadRestAsync(sb));
        }
    }

    [Fact]
    public async Task Unknown_message_is_not_found()
    {
        await Assert.ThrowsAsync<StoreNotFoundException>(() => _store.Messages.OpenMessageAsync(987654, Ct));
    }

    private async Task<long> DeliverAsync(byte[] body)
    {
        var writer = _store.Messages.CreateWriter();
        StagedMessage staged;
        await using (writer)
        {
            await writer.WriteAsync(body, Ct);
            staged = await writer.CompleteAsync(Ct);
        }

        await using (staged)
        {
            var result = await _store.Messages.CommitAsync(new DeliveryRequest(staged, "IDX"u8.ToArray(), "a@example.test", [new LocalDelivery(_inbox, MessageFlags.None, [], DateTimeOffset.UtcNow)], [], null), Ct);
            return result.MessageId;
        }
    }

    private static async Task<byte[]> ReadRestAsync(Stream stream)
    {
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }
}