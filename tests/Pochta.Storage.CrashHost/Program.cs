using System.Text;

using Pochta.Core;
using Pochta.Storage;
using Pochta.Storage.Sqlite;

// Usage: CrashHost DATA MODE
//   loop         concurrent deliveries (small and large) forever; "ACK id uid hash" after each commit
//   after-blob   one large delivery that stops after its blob file is durable, before the commit
//   mid-batch    concurrent deliveries whose batch stops after executing, before COMMIT
//   expunge      30 deliveries ("KEEP id uid hash" for the last 10), one bulk expunge of the first
//                20, "EXPUNGED", then idle while reclamation runs one message per step (the kill
//                lands before or during it)
// The test kills this process (SIGKILL) and checks the store after reopening it.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: CrashHost DATA loop|after-blob|mid-batch|expunge");
    return 2;
}

var mode = args[1];
var stop = new TaskCompletionSource();
var options = new SqliteStoreOptions { DataDirectory = args[0] };
using var never = new ManualResetEventSlim();
if (mode == "after-blob")
{
    options.AfterBlobWritten = async () =>
    {
        Say("BLOB");
        await stop.Task;
    };
}
else if (mode == "mid-batch")
{
    options.BeforeBatchCommit = count =>
    {
        if (count >= 3)
        {
            Say("BATCH " + count.ToString(System.Globalization.CultureInfo.InvariantCulture));

            // Holds the writer inside the open transaction until the kill.
            never.Wait();
        }
    };
}

else if (mode == "expunge")
{
    options.ReclaimBatchSize = 1;
}

var store = new SqliteMailStore(options, TimeProvider.System);
await store.InitializeAsync(CancellationToken.None);
var account = await store.Directory.FindAccountAsync("crash@example.test", CancellationToken.None)
    ?? throw new InvalidOperationException("the test creates crash@example.test first");
var inbox = (await store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", CancellationToken.None))!;
Say("READY");

if (mode == "expunge")
{
    var delivered = new List<(long Id, uint Uid, string Hash)>();
    for (var n = 1; n <= 30; n++)
    {
        var body = Body(n, n % 3 == 0 ? 300_000 + n : 2_000 + n);
        var writer = store.Messages.CreateWriter();
        await using (writer)
        {
            await writer.WriteAsync(body, CancellationToken.None);
            await using var staged = await writer.CompleteAsync(CancellationToken.None);
            var result = await store.Messages.CommitAsync(
                new DeliveryRequest(staged, "I"u8.ToArray(), "", [new LocalDelivery(inbox.Id, MessageFlags.None, [], DateTimeOffset.UtcNow)], [], null),
                CancellationToken.None);
            delivered.Add((result.MessageId, result.Uids[0], staged.ContentHash));
        }
    }

    foreach (var (id, uid, hash) in delivered.Skip(20))
    {
        Say(FormattableString.Invariant($"KEEP {id} {uid} {hash}"));
    }

    await ((IBulkExpunge)store.Messages).ExpungeManyAsync(inbox.Id, [.. delivered.Take(20).Select(d => d.Uid)], CancellationToken.None);
    Say("EXPUNGED");
    await stop.Task;
    return 0;
}

var workers = mode switch
{
    "after-blob" => 1,
    "mid-batch" => 6,
    _ => 8,
};
var counter = 0;
await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
{
    for (var i = 0; ; i++)
    {
        var n = Interlocked.Increment(ref counter);

        // Every third message is large (a blob file); the others live in the database.
        var size = mode == "after-blob" || n % 3 == 0 ? 300_000 + n : 2_000 + n;
        var body = Body(n, size);
        var writer = store.Messages.CreateWriter();
        await using (writer)
        {
            for (var off = 0; off < body.Length; off += 16384)
            {
                await writer.WriteAsync(body.AsMemory(off, Math.Min(16384, body.Length - off)), CancellationToken.None);
            }

            await using var staged = await writer.CompleteAsync(CancellationToken.None);
            var result = await store.Messages.CommitAsync(
                new DeliveryRequest(staged, "I"u8.ToArray(), "", [new LocalDelivery(inbox.Id, MessageFlags.None, [], DateTimeOffset.UtcNow)], n % 5 == 0 ? [new QueuedRecipient("r@remote.test", null, null)] : [], null),
                CancellationToken.None);
            Say(FormattableString.Invariant($"ACK {result.MessageId} {result.Uids[0]} {staged.ContentHash}"));
        }
    }
})));
return 0;

static void Say(string line)
{
    lock (Console.Out)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}

static byte[] Body(int n, int size)
{
    var head = Encoding.ASCII.GetBytes(FormattableString.Invariant($"From: a@example.test\r\nSubject: crash {n}\r\n\r\n"));
    var body = new byte[size];
    head.CopyTo(body, 0);
    for (var i = head.Length; i < size; i++)
    {
        body[i] = (byte)('a' + ((i * 7 + n) % 26));
    }

    return body;
}