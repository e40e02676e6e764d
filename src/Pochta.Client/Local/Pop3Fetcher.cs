using Pochta.Client.Cli;

namespace Pochta.Client.Local;

/// <summary>The POP3 operations a fetch needs (RFC 1939), so the ordering can be tested.</summary>
internal interface IPop3Mailbox
{
    int Count { get; }

    bool SupportsUids { get; }

    Task<IReadOnlyList<string>> GetUidsAsync(CancellationToken cancellationToken);

    Task<Stream> OpenAsync(int index, CancellationToken cancellationToken);

    /// <summary>DELE: marks the message; the server removes it at QUIT.</summary>
    Task DeleteAsync(int index, CancellationToken cancellationToken);

    /// <summary>QUIT: enters the UPDATE state (RFC 1939 §6), committing the deletions.</summary>
    Task CommitAsync(CancellationToken cancellationToken);
}

internal sealed record FetchResult(int Downloaded, int Deleted, int Skipped, IReadOnlyList<string> Files);

/// <summary>
/// Downloads a POP3 mailbox into a Maildir or mbox. Per message: deliver durably (Maildir: tmp,
/// fsync, rename into new, fsync new), record its UIDL (fsynced), and only then DELE. A message
/// is never lost: it leaves the server only after it is on disk. Interrupted, the next run
/// deletes (or, with --keep, skips) every recorded UIDL still on the server without downloading
/// it again; only a crash in the instant between delivery and the UIDL record can repeat that
/// one message. Without UIDL support on the server, a run interrupted between download and
/// QUIT downloads those messages again on the next run.
/// </summary>
internal sealed class Pop3Fetcher(IMessageSink maildir, UidlState state)
{
    public async Task<FetchResult> FetchAsync(IPop3Mailbox mailbox, bool keep, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        if (keep && !mailbox.SupportsUids)
        {
            throw ClientException.Usage("the POP3 server does not support UIDL, which --keep needs");
        }

        maildir.EnsureCreated();
        var uids = mailbox.SupportsUids ? await mailbox.GetUidsAsync(cancellationToken) : null;
        var files = new List<string>();
        int downloaded = 0, deleted = 0, skipped = 0;
        for (var i = 0; i < mailbox.Count; i++)
        {
            var uid = uids is not null && i < uids.Count && UidlState.IsValidId(uids[i]) ? uids[i] : null;
            if (uid is not null && state.Contains(uid))
            {
                skipped++;
            }
            else
            {
                await using (var message = await mailbox.OpenAsync(i, cancellationToken))
                {
                    files.Add(await maildir.DeliverAsync(message, cancellationToken));
                }

                if (uid is not null)
                {
                    await state.AddAsync(uid, cancellationToken);
                }

                downloaded++;
            }

            if (!keep)
            {
                await mailbox.DeleteAsync(i, cancellationToken);
                deleted++;
            }

            progress?.Report(i + 1);
        }

        await mailbox.CommitAsync(cancellationToken);
        if (uids is not null)
        {
            // After QUIT the deleted messages are gone for good; with --keep, forget only what
            // vanished from the server. The record stays as small as the server mailbox.
            await state.RetainAsync(keep ? uids : [], cancellationToken);
        }

        return new FetchResult(downloaded, deleted, skipped, files);
    }
}