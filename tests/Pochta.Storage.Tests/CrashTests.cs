using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

using Microsoft.Data.Sqlite;

using Pochta.Storage.Sqlite;

namespace Pochta.Storage.Tests;

/// <summary>
/// A real child process (tests/Pochta.Storage.CrashHost) writes mail and is killed with
/// SIGKILL; the store is then reopened (recovery) and checked: every acknowledged commit is
/// there with its bytes, nothing unacknowledged half-exists, no file or reference leaked.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Kill_during_concurrent_commits_loses_no_acknowledged_message()
    {
        await PrepareAsync();
        var acks = await RunAndKillAsync("loop", lines => lines.Count(l => l.StartsWith("ACK ", StringComparison.Ordinal)) >= 40);
        Assert.True(acks.Count >= 40);
        await VerifyAsync(acks, expectExactly: false);
    }

    [Fact]
    public async Task Kill_between_blob_write_and_commit_leaves_nothing()
    {
        await PrepareAsync();
        var acks = await RunAndKillAsync("after-blob", lines => lines.Contains("BLOB"));
        Assert.Empty(acks);

        // The blob file was durable under its content name when the process died.
        Assert.Single(BlobFiles());
        await VerifyAsync(acks, expectExactly: true);
    }

    [Fact]
    public async Task Kill_in_the_middle_of_a_batch_commits_none_of_it()
    {
        await PrepareAsync();
        var acks = await RunAndKillAsync("mid-batch", lines => lines.Any(l => l.StartsWith("BATCH ", StringComparison.Ordinal)));
        await VerifyAsync(acks, expectExactly: true);
    }

    [Fact]
    public async Task Kill_after_an_expunge_before_or_during_reclamation_loses_and_leaks_nothing()
    {
        await PrepareAsync();
        var kept = await RunAndKillAsync("expunge", lines => lines.Contains("EXPUNGED"), prefix: "KEEP ");
        Assert.Equal(10, kept.Count);

        // The expunge was acknowledged: exactly the ten kept messages are visible, whole; whatever
        // the reclaimer had not freed yet is freed after the restart, and no row or file leaks.
        await VerifyAsync(kept, expectExactly: true);
    }

    private async Task PrepareAsync()
    {
        await using var store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir.Path }, TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        await store.Directory.AddDomainAsync("example.test", CancellationToken.None);
        await store.Directory.AddAccountAsync("crash@example.test", "c", 0, CancellationToken.None);

        // A limit far above what the runs store: every commit goes through the quota check.
        await store.Directory.SetQuotaAsync("crash@example.test", 1L << 40, 0, CancellationToken.None);
    }

    private async Task<List<(long MessageId, uint Uid, string Hash)>> RunAndKillAsync(string mode, Func<List<string>, bool> killWhen, string prefix = "ACK ")
    {
        var host = Path.Combine(AppContext.BaseDirectory, "Pochta.Storage.CrashHost.dll");
        Assert.True(File.Exists(host), host);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(host);
        start.ArgumentList.Add(_dir.Path);
        start.ArgumentList.Add(mode);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            while (!killWhen(lines))
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null)
                {
                    Assert.Fail($"crash host exited early ({mode}): {await stderr}");
                }

                lines.Add(line);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        // Lines already written before the kill are acknowledged commits too.
        while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } rest)
        {
            lines.Add(rest);
        }

        Assert.Contains("READY", lines);
        return lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l =>
        {
            var p = l.Split(' ');
            return (long.Parse(p[1], CultureInfo.InvariantCulture), uint.Parse(p[2], CultureInfo.InvariantCulture), p[3]);
        }).ToList();
    }

    private async Task VerifyAsync(List<(long MessageId, uint Uid, string Hash)> acks, bool expectExactly)
    {
        await using (var store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir.Path }, TimeProvider.System))
        {
            await store.InitializeAsync(CancellationToken.None);
            var account = (await store.Directory.FindAccountAsync("crash@example.test", CancellationToken.None))!;
            var inbox = (await store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", CancellationToken.None))!;
            var entries = (await store.Mailboxes.ListMessagesAsync(inbox.Id, CancellationToken.None)).ToDictionary(e => e.Uid);
            foreach (var (messageId, uid, hash) in acks)
            {
                Assert.True(entries.TryGetValue(uid, out var entry), $"acknowledged UID {uid} lost");
                Assert.Equal(messageId, entry.MessageId);
                await using var stream = await store.Messages.OpenMessageAsync(messageId, CancellationToken.None);
                Assert.Equal(hash, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
            }

            if (expectExactly)
            {
                Assert.Equal(acks.Count, entries.Count);
            }

            // Every visible message is whole.
            foreach (var entry in entries.Values)
            {
                await using var stream = await store.Messages.OpenMessageAsync(entry.MessageId, CancellationToken.None);
                Assert.Equal(entry.Size, stream.Length);
            }

            // UIDs handed out after the crash are above every UID ever visible.
            Assert.True(inbox.UidNext > (entries.Count == 0 ? 0 : entries.Keys.Max()));

            // What the crash left for reclamation is all listed: every message is referenced or
            // listed, every blob is named by a message.
            using (var raw = Open())
            {
                Assert.Equal(0L, Scalar(raw,
                    "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = m.id) " +
                    "AND NOT EXISTS (SELECT 1 FROM queue_entries q WHERE q.message_id = m.id) AND m.id NOT IN (SELECT message_id FROM message_garbage)"));
                Assert.Equal(0L, Scalar(raw, "SELECT COUNT(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_hash = b.hash)"));
            }

            await store.ReclaimAsync(CancellationToken.None);
        }

        // No leaked file, row or reference.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.Path, "tmp")));
        using var db = Open();
        Assert.Equal(0L, Scalar(db, "SELECT COUNT(*) FROM message_garbage"));
        Assert.Equal(0L, Scalar(db,
            "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = m.id) " +
            "AND NOT EXISTS (SELECT 1 FROM queue_entries q WHERE q.message_id = m.id)"));
        Assert.Equal(0L, Scalar(db, "SELECT COUNT(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_hash = b.hash)"));

        // Quota usage is exactly what the surviving rows add up to, and no check state is left.
        Assert.Equal(0L, Scalar(db,
            "SELECT COUNT(*) FROM accounts a WHERE used_bytes <> (SELECT COALESCE(SUM(mm.size), 0) FROM mailbox_messages mm JOIN mailboxes x ON x.id = mm.mailbox_id WHERE x.account_id = a.id) " +
            "OR used_messages <> (SELECT COUNT(*) FROM mailbox_messages mm JOIN mailboxes x ON x.id = mm.mailbox_id WHERE x.account_id = a.id)"));
        Assert.Equal(0L, Scalar(db, "SELECT COUNT(*) FROM quota_growth"));
        var fileBlobs = new HashSet<string>(StringComparer.Ordinal);
        using (var cmd = db.CreateCommand())
        {
            cmd.CommandText = "SELECT hash FROM blobs WHERE data IS NULL";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                fileBlobs.Add(r.GetString(0));
            }
        }

        var files = BlobFiles().Select(f => Path.GetFileName(Path.GetDirectoryName(f)) + Path.GetFileName(f)).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(fileBlobs.Order(StringComparer.Ordinal), files.Order(StringComparer.Ordinal));
    }

    private SqliteConnection Open()
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_dir.Path, "pochta.db"), Pooling = false }.ConnectionString);
        db.Open();
        return db;
    }

    private List<string> BlobFiles() =>
        Directory.EnumerateFiles(Path.Combine(_dir.Path, "blobs"), "*", SearchOption.AllDirectories).ToList();

    private static long Scalar(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}