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

/// <summary>STATUS INBOX (MESSAGES) summed over the recipients' accounts (any IMAP server, e.g. Pochta).</summary>
internal sealed class ImapWait(Endpoint endpoint, string userPattern, int users, string password) : DeliveryWait
{
    public override Task<long> CountAsync(CancellationToken ct) => ImapSeed.CountAsync(endpoint, userPattern, users, 0, password, ct);
}