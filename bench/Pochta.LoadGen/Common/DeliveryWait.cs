using Pochta.LoadGen.Imap;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Common;

/// <summary>
/// Counts messages that reached their mailboxes, so throughput can be measured "until every
/// message is in its mailbox" and not just until the server said 250 (Postfix queues first).
/// </summary>
internal abstract class DeliveryWait
{
    public abstract Task<long> CountAsync(CancellationToken ct);

    /// <summary>Polls until the count reaches <paramref name="target"/> (or the token ends the run); returns the last count.</summary>
    public async Task<long> UntilAsync(long target, CancellationToken ct)
    {
        long count = await CountAsync(ct);
        var poll = TimeSpan.FromMilliseconds(50);
        while (count < target && !ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(poll, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            count = await CountAsync(CancellationToken.None);
            poll = TimeSpan.FromMilliseconds(Math.Min(250, poll.TotalMilliseconds * 1.5));
        }

        return count;
    }
}

/// <summary>Files in every new/ and cur/ directory under a Maildir tree (Postfix virtual(8), Dovecot).</summary>
internal sealed class MaildirWait(string root) : DeliveryWait
{
    public override Task<long> CountAsync(CancellationToken ct)
    {
        long count = 0;
        if (Directory.Exists(root))
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
            foreach (var dir in Directory.EnumerateDirectories(root, "*", options))
            {
                var name = Path.GetFileName(dir);
                if (name is "new" or "cur")
                {
                    count += Directory.EnumerateFiles(dir).LongCount();
                }
            }
        }

        return Task.FromResult(count);
    }
}

/// <summary>
/// STATUS INBOX (MESSAGES) summed over the recipients' accounts (any IMAP server, e.g. Pochta).
/// One connection per account, logged in once (before the timed run, by the baseline count) and
/// reused for every poll, so a costly password hash is not paid per poll.
/// </summary>
internal sealed class ImapWait(Endpoint endpoint, string userPattern, int users, string password) : DeliveryWait, IAsyncDisposable
{
    private ImapConnection[]? connections;

    public override async Task<long> CountAsync(CancellationToken ct)
    {
        if (connections is null)
        {
            var opened = new ImapConnection[users];
            for (int u = 0; u < users; u++)
            {
                opened[u] = await ImapConnection.OpenAsync(endpoint, ct);
                await opened[u].LoginAsync(Pattern.Expand(userPattern, u), password, ct);
            }

            connections = opened;
        }

        long total = 0;
        foreach (var imap in connections)
        {
            long count = 0;
            var status = await imap.CommandAsync("STATUS INBOX (MESSAGES)", line =>
            {
                int at = line.IndexOf("MESSAGES "u8);
                if (line.StartsWith("* STATUS"u8) && at >= 0 && System.Buffers.Text.Utf8Parser.TryParse(line[(at + 9)..], out long n, out _))
                {
                    count = n;
                }
            }, ct);
            if (status != ImapStatus.Ok)
            {
                throw new ProtocolException("STATUS failed");
            }

            total += count;
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var imap in connections ?? [])
        {
            await imap.DisposeAsync();
        }
    }
}