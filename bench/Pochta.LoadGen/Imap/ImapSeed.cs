using System.Diagnostics;

using Pochta.LoadGen.Common;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Imap;

/// <summary>
/// Fills K users' INBOXes through IMAP APPEND with deterministic messages (the same bytes for
/// every server), so all servers are compared on the same mailboxes.
/// </summary>
internal static class ImapSeed
{
    public static async Task<Summary> RunAsync(Endpoint endpoint, string userPattern, int users, int firstUser, string password, int perUser, string size, int parallel, int window, CancellationToken ct)
    {
        int fixedSize = MessageFactory.ParseSize(size);
        long messages = 0, bytes = 0;
        long start = Stopwatch.GetTimestamp();

        // Fewer users than connections (one large mailbox): several connections share one user's
        // message stream, so APPENDs of one mailbox commit concurrently (the server's group
        // commit) instead of one after another. The bytes are the same as with one connection;
        // only the UID order may interleave.
        int perUserConnections = Math.Max(1, parallel / Math.Max(1, users));
        await Parallel.ForEachAsync(Enumerable.Range(firstUser, users), new ParallelOptions { MaxDegreeOfParallelism = Math.Min(parallel, users), CancellationToken = ct }, async (u, token) =>
        {
            string user = Pattern.Expand(userPattern, u);
            var random = new Random(1000 + u);
            IEnumerable<(string, byte[])> Messages()
            {
                for (int i = 0; i < perUser; i++)
                {
                    int length = fixedSize > 0 ? fixedSize : MessageFactory.MixedSize(random);
                    var message = MessageFactory.Build(i, length, user, random);
                    Interlocked.Increment(ref messages);
                    Interlocked.Add(ref bytes, message.Length);
                    yield return (i % 3 == 0 ? "\\Seen" : "", message);
                }
            }

            using var source = new SharedSource<(string, byte[])>(Messages());
            await Task.WhenAll(Enumerable.Range(0, perUserConnections).Select(async _ =>
            {
                await using var imap = await ImapConnection.OpenAsync(endpoint, token);
                await imap.LoadCapabilitiesAsync(token);
                await imap.LoginAsync(user, password, token);
                await imap.AppendManyAsync("INBOX", source.Take(), window, token);
                await imap.LogoutAsync(token);
            }));
        });
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new Summary("seed")
            .Add("server", $"{endpoint.Host}:{endpoint.Port}")
            .Add("users", users)
            .Add("connections_per_user", perUserConnections)
            .Add("messages", messages)
            .Add("bytes", bytes)
            .Add("seconds", Math.Round(seconds, 3))
            .Add("appends_per_s", Math.Round(messages / seconds, 1));
    }

    /// <summary>One enumerator drawn from by several consumers, each item once, in order.</summary>
    private sealed class SharedSource<T>(IEnumerable<T> items) : IDisposable
    {
        private readonly IEnumerator<T> _items = items.GetEnumerator();
        private readonly Lock _lock = new();

        public IEnumerable<T> Take()
        {
            while (true)
            {
                T item;
                lock (_lock)
                {
                    if (!_items.MoveNext())
                    {
                        yield break;
                    }

                    item = _items.Current;
                }

                yield return item;
            }
        }

        public void Dispose() => _items.Dispose();
    }

    /// <summary>
    /// The same messages as <see cref="RunAsync"/>, written straight into Maildir folders
    /// (root/domain/local/Maildir/{new,cur}; \Seen ones in cur/ with ":2,S"), for servers that read
    /// Maildir (Dovecot): fast seeding of large reference mailboxes without the server's APPEND path.
    /// </summary>
    public static Summary WriteMaildir(string root, string userPattern, int users, int firstUser, int perUser, string size)
    {
        int fixedSize = MessageFactory.ParseSize(size);
        long messages = 0, bytes = 0;
        long start = Stopwatch.GetTimestamp();
        long stamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (int u = firstUser; u < firstUser + users; u++)
        {
            string user = Pattern.Expand(userPattern, u);
            int at = user.IndexOf('@', StringComparison.Ordinal);
            string dir = Path.Combine(root, user[(at + 1)..], user[..at], "Maildir");
            foreach (var sub in new[] { "new", "cur", "tmp" })
            {
                Directory.CreateDirectory(Path.Combine(dir, sub));
            }

            var random = new Random(1000 + u);
            for (int i = 0; i < perUser; i++)
            {
                int length = fixedSize > 0 ? fixedSize : MessageFactory.MixedSize(random);
                var message = MessageFactory.Build(i, length, user, random);
                bool seen = i % 3 == 0;
                string name = $"{stamp + i}.S{u}_{i}.seed";
                File.WriteAllBytes(seen ? Path.Combine(dir, "cur", name + ":2,S") : Path.Combine(dir, "new", name), message);
                messages++;
                bytes += message.Length;
            }
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new Summary("seed-maildir")
            .Add("root", root)
            .Add("users", users)
            .Add("messages", messages)
            .Add("bytes", bytes)
            .Add("seconds", Math.Round(seconds, 3));
    }

    /// <summary>Sum of STATUS INBOX (MESSAGES) over the users (RFC 9051 §6.3.11).</summary>
    public static async Task<long> CountAsync(Endpoint endpoint, string userPattern, int users, int firstUser, string password, CancellationToken ct)
    {
        long total = 0;
        await Parallel.ForEachAsync(Enumerable.Range(firstUser, users), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (u, token) =>
        {
            await using var imap = await ImapConnection.OpenAsync(endpoint, token);
            await imap.LoginAsync(Pattern.Expand(userPattern, u), password, token);
            long count = 0;
            var status = await imap.CommandAsync("STATUS INBOX (MESSAGES)", line =>
            {
                int at = line.IndexOf("MESSAGES "u8);
                if (line.StartsWith("* STATUS"u8) && at >= 0 && System.Buffers.Text.Utf8Parser.TryParse(line[(at + 9)..], out long n, out _))
                {
                    count = n;
                }
            }, token);
            if (status != ImapStatus.Ok)
            {
                throw new ProtocolException("STATUS failed");
            }

            await imap.LogoutAsync(token);
            Interlocked.Add(ref total, count);
        });
        return total;
    }
}