using System.Globalization;

using Pochta.Core;
using Pochta.Imap.Protocol;
using Pochta.Storage;

namespace Pochta.Imap.Handlers;

/// <summary>RFC 9051 §6.4.6 STORE with .SILENT and RFC 7162 §3.1.3 UNCHANGEDSINCE (MODIFIED response code).</summary>
internal sealed class StoreHandler : CommandHandler<StoreCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, StoreCommand command, CancellationToken cancellationToken)
    {
        var view = session.Selected!;
        if (!command.Uid && view.HasInvalidSequenceNumber(command.Set))
        {
            return CommandResult.Bad("Invalid message sequence number");
        }

        if (view.ReadOnly)
        {
            return CommandResult.No("Mailbox is read-only", "READ-ONLY");
        }

        if (command.UnchangedSince is not null)
        {
            session.Enable(Enabled.CondStore);
        }

        var seqs = view.Resolve(command.Set, command.Uid, session.SavedSearch);
        var uids = seqs.Select(s => view[s].Uid).Where(u => !view.IsExpungedPending(u)).ToList();
        var op = command.Operation switch
        {
            FlagOperationKind.Add => FlagOperation.Add,
            FlagOperationKind.Remove => FlagOperation.Remove,
            _ => FlagOperation.Replace,
        };
        var result = uids.Count == 0
            ? new StoreFlagsResult(view.HighestModSeq, [], [])
            : await session.Store.Mailboxes.StoreFlagsAsync(view.Info.Id, uids, op, command.Flags, command.Keywords, command.UnchangedSince, cancellationToken);

        var updated = new HashSet<uint>();
        foreach (var e in result.Updated)
        {
            view.Update(e);
            updated.Add(e.Uid);
        }

        var conflicts = new HashSet<uint>(result.Conflicts);
        foreach (var seq in seqs)
        {
            var e = view[seq];
            if (conflicts.Contains(e.Uid) || view.IsExpungedPending(e.Uid))
            {
                continue;
            }

            // RFC 9051 §6.4.6: untagged FETCH with the new flags unless .SILENT. RFC 7162 §3.1.3:
            // with CONDSTORE, messages whose flags changed are reported with MODSEQ even when silent
            // only if another session changed them; unchanged messages get FETCH too (not silent).
            if (!command.Silent)
            {
                view.WriteFlagsFetch(session, seq, e, includeUid: command.Uid);
            }
        }

        if (conflicts.Count > 0)
        {
            var set = command.Uid
                ? SequenceSet.Format(conflicts.Order())
                : SequenceSet.Format(conflicts.Select(u => (uint)view.SeqOf(u)).Where(s => s > 0).Order());
            return CommandResult.Ok("Conditional STORE failed for some messages", "MODIFIED " + set);
        }

        return CommandResult.Ok(command.Name + " completed");
    }
}

/// <summary>RFC 9051 §6.4.3 EXPUNGE and RFC 4315 §2.1 UID EXPUNGE (only \Deleted messages in the set).</summary>
internal sealed class ExpungeHandler : CommandHandler<ExpungeCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, ExpungeCommand command, CancellationToken cancellationToken)
    {
        var view = session.Selected!;
        if (view.ReadOnly)
        {
            return CommandResult.No("Mailbox is read-only", "READ-ONLY");
        }

        // Learn of other sessions' flag changes first, so \Deleted is current.
        await view.SyncAsync(session, mayExpunge: true, cancellationToken);
        List<uint>? uids = null;
        if (command.Uids is { } set)
        {
            uids = view.Resolve(set, true, session.SavedSearch).Select(s => view[s]).Where(e => (e.Flags & MessageFlags.Deleted) != 0).Select(e => e.Uid).ToList();
            if (uids.Count == 0)
            {
                return CommandResult.Ok(command.Name + " completed");
            }
        }

        var result = await session.Store.Mailboxes.ExpungeAsync(view.Info.Id, uids, cancellationToken);
        view.RemoveExpunged(session, result.Expunged);
        return session.CondStore
            ? CommandResult.Ok(command.Name + " completed", "HIGHESTMODSEQ " + result.HighestModSeq.ToString(CultureInfo.InvariantCulture))
            : CommandResult.Ok(command.Name + " completed");
    }
}

/// <summary>RFC 9051 §6.4.7 COPY and RFC 6851 MOVE (and UID variants) with RFC 4315 COPYUID; a missing
/// destination gets TRYCREATE.</summary>
internal sealed class CopyHandler : CommandHandler<CopyCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, CopyCommand command, CancellationToken cancellationToken)
    {
        var view = session.Selected!;
        if (!command.Uid && view.HasInvalidSequenceNumber(command.Set))
        {
            return CommandResult.Bad("Invalid message sequence number");
        }

        if (command.Move && view.ReadOnly)
        {
            return CommandResult.No("Mailbox is read-only", "READ-ONLY");
        }

        var target = await session.Store.Mailboxes.FindMailboxAsync(session.AccountId, MailboxNames.Normalize(command.Mailbox), cancellationToken);
        if (target is null)
        {
            return CommandResult.No("No such mailbox", "TRYCREATE");
        }

        var uids = view.Resolve(command.Set, command.Uid, session.SavedSearch).Select(s => view[s].Uid).Where(u => !view.IsExpungedPending(u)).ToList();
        if (uids.Count == 0)
        {
            return CommandResult.Ok(command.Name + " completed");
        }

        var store = session.Store.Mailboxes;
        CopyResult result;
        try
        {
            result = command.Move
                ? await store.MoveAsync(view.Info.Id, uids, target.Id, cancellationToken)
                : await store.CopyAsync(view.Info.Id, uids, target.Id, cancellationToken);
        }
        catch (QuotaExceededException)
        {
            // RFC 9208 §4.3: nothing was copied or moved.
            return ImapQuota.OverQuota;
        }

        var code = "COPYUID " + result.DestinationUidValidity.ToString(CultureInfo.InvariantCulture) + " "
            + SequenceSet.Format(result.SourceUids) + " " + SequenceSet.Format(result.DestinationUids);
        if (command.Move)
        {
            // RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGE responses.
            session.Writer.UntaggedStatus(ImapStatus.Ok, code, "Moved");
            view.RemoveExpunged(session, result.SourceUids);
            return CommandResult.Ok(command.Name + " completed");
        }

        return CommandResult.Ok(command.Name + " completed", code);
    }
}