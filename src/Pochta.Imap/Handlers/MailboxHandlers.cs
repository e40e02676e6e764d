using System.Globalization;

using Pochta.Core;
using Pochta.Imap.Protocol;
using Pochta.Storage;

namespace Pochta.Imap.Handlers;

/// <summary>RFC 9051 §6.3.2 SELECT / §6.3.3 EXAMINE, with RFC 7162 CONDSTORE and QRESYNC parameters.</summary>
internal sealed class SelectHandler : CommandHandler<SelectCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, SelectCommand command, CancellationToken cancellationToken)
    {
        if (command.QResync is not null && !session.QResync)
        {
            // RFC 7162 §3.2.5: QRESYNC parameter without ENABLE QRESYNC is an error.
            return CommandResult.Bad("QRESYNC is not enabled");
        }

        if (session.Selected is not null)
        {
            // RFC 9051 §6.3.2 / RFC 7162 §3.2.11: the previous mailbox is closed first (no expunge).
            session.Deselect();
            session.Writer.UntaggedStatus(ImapStatus.Ok, "CLOSED", "Previous mailbox closed");
        }

        var store = session.Store.Mailboxes;
        var info = await store.FindMailboxAsync(session.AccountId, MailboxNames.Normalize(command.Mailbox), cancellationToken);
        if (info is null)
        {
            return CommandResult.No("No such mailbox", "NONEXISTENT");
        }

        if (command.CondStore)
        {
            session.Enable(Enabled.CondStore);
        }

        // The shared per-mailbox index, brought up to date from the change log (DESIGN §7).
        var (messages, modSeq) = await session.Services.Snapshots.GetAsync(store, info, cancellationToken);
        var view = new SelectedMailbox(store, info, command.ReadOnly, messages, modSeq);
        if (!session.Rev2 && !command.ReadOnly)
        {
            view.MarkRecent(await store.ClaimRecentAsync(info.Id, cancellationToken));
        }

        var w = session.Writer;
        w.Untagged().Number((long)view.Count).Raw(" EXISTS"u8).EndLine();
        if (!session.Rev2)
        {
            w.Untagged().Number((long)view.RecentCount).Raw(" RECENT"u8).EndLine();
            for (var seq = 1; seq <= view.Count; seq++)
            {
                if ((view[seq].Flags & MessageFlags.Seen) == 0)
                {
                    // RFC 3501 §6.3.1: the first unseen message's sequence number.
                    w.UntaggedStatus(ImapStatus.Ok, "UNSEEN " + seq.ToString(CultureInfo.InvariantCulture), "First unseen");
                    break;
                }
            }
        }

        var keywords = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var m in messages)
        {
            if (m.Keywords.Count > 0)
            {
                keywords.UnionWith(m.Keywords);
            }
        }

        var flagText = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft" + (keywords.Count > 0 ? " " + string.Join(' ', keywords) : string.Empty) + ")";
        w.Untagged().Raw("FLAGS "u8).Ascii(flagText).EndLine();
        w.UntaggedStatus(ImapStatus.Ok, "PERMANENTFLAGS " + (command.ReadOnly ? "()" : flagText.TrimEnd(')') + " \\*)"), command.ReadOnly ? "Read-only mailbox" : "Flags permitted");
        w.UntaggedStatus(ImapStatus.Ok, "UIDVALIDITY " + info.UidValidity.ToString(CultureInfo.InvariantCulture), "UIDs valid");
        w.UntaggedStatus(ImapStatus.Ok, "UIDNEXT " + view.UidNext.ToString(CultureInfo.InvariantCulture), "Predicted next UID");
        w.UntaggedStatus(ImapStatus.Ok, "HIGHESTMODSEQ " + Math.Max(1UL, view.HighestModSeq).ToString(CultureInfo.InvariantCulture), "Highest");
        if (session.Rev2)
        {
            // RFC 9051 §6.3.2: a LIST response with the mailbox name.
            w.Untagged().Raw("LIST () \"/\" "u8).Mailbox(info.Name).EndLine();
        }

        session.SetSelected(view);
        if (command.QResync is { } q && q.UidValidity == info.UidValidity)
        {
            await ResyncAsync(session, view, q, cancellationToken);
        }

        return CommandResult.Ok(command.ReadOnly ? "EXAMINE completed" : "SELECT completed", command.ReadOnly ? "READ-ONLY" : "READ-WRITE");
    }

    /// <summary>RFC 7162 §3.2.5.1: VANISHED (EARLIER) for known UIDs expunged since the client's
    /// modseq, then FETCH (UID FLAGS MODSEQ) for messages changed since.</summary>
    private static async Task ResyncAsync(ImapSession session, SelectedMailbox view, QResyncParameters q, CancellationToken cancellationToken)
    {
        var changes = await session.Store.Mailboxes.GetChangesSinceAsync(view.Info.Id, q.ModSeq, cancellationToken);
        var vanished = new List<uint>();
        foreach (var uid in changes.Expunged)
        {
            if (q.KnownUids is null || q.KnownUids.Contains(uid, uint.MaxValue - 1))
            {
                vanished.Add(uid);
            }
        }

        vanished.Sort();
        if (vanished.Count > 0)
        {
            session.Writer.Untagged().Raw("VANISHED (EARLIER) "u8).Ascii(SequenceSet.Format(vanished)).EndLine();
        }

        foreach (var e in changes.Changed)
        {
            var seq = view.SeqOf(e.Uid);
            if (seq > 0 && (q.KnownUids is null || q.KnownUids.Contains(e.Uid, uint.MaxValue - 1)))
            {
                view.WriteFlagsFetch(session, seq, view[seq], includeUid: true);
            }
        }
    }
}

/// <summary>RFC 9051 §6.4.2 CLOSE (expunges silently when read-write) and §6.4.7 UNSELECT (never expunges).</summary>
internal sealed class CloseHandler : ICommandHandler
{
    public async Task<CommandResult> ExecuteAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        var selected = session.Selected!;
        if (command is CloseCommand && !selected.ReadOnly)
        {
            await session.Store.Mailboxes.ExpungeAsync(selected.Info.Id, null, cancellationToken);
        }

        session.Deselect();
        return CommandResult.Ok(command.Name + " completed");
    }
}

/// <summary>RFC 9051 §6.3.4 CREATE with RFC 6154 USE; superior names are created as needed.</summary>
internal sealed class CreateHandler : CommandHandler<CreateCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, CreateCommand command, CancellationToken cancellationToken)
    {
        var name = MailboxNames.Normalize(command.Mailbox);
        if (!MailboxNames.IsValidNew(name))
        {
            return CommandResult.No("Invalid mailbox name", "CANNOT");
        }

        if (name == "INBOX")
        {
            return CommandResult.No("INBOX always exists", "ALREADYEXISTS");
        }

        var use = SpecialUse.None;
        if (command.SpecialUse.Count > 1)
        {
            return CommandResult.No("Only one special use per mailbox", "USEATTR");
        }

        if (command.SpecialUse.Count == 1)
        {
            if (MailboxNames.ParseSpecialUse(command.SpecialUse[0]) is not { } parsed)
            {
                return CommandResult.No("Unsupported special-use attribute", "USEATTR");
            }

            use = parsed;
        }

        var store = session.Store.Mailboxes;
        if (await store.FindMailboxAsync(session.AccountId, name, cancellationToken) is not null)
        {
            return CommandResult.No("Mailbox already exists", "ALREADYEXISTS");
        }

        foreach (var ancestor in MailboxNames.Ancestors(name))
        {
            if (await store.FindMailboxAsync(session.AccountId, ancestor, cancellationToken) is null)
            {
                try
                {
                    await store.CreateMailboxAsync(session.AccountId, ancestor, SpecialUse.None, cancellationToken);
                }
                catch (StoreConflictException)
                {
                    // Created concurrently by another session: fine.
                }
            }
        }

        await store.CreateMailboxAsync(session.AccountId, name, use, cancellationToken);
        return CommandResult.Ok("CREATE completed");
    }
}

/// <summary>RFC 9051 §6.3.5 DELETE. Inferior names survive (the name then lists as \Noselect /
/// \NonExistent); a name that exists only as a superior of others cannot be deleted.</summary>
internal sealed class DeleteHandler : CommandHandler<DeleteCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, DeleteCommand command, CancellationToken cancellationToken)
    {
        var name = MailboxNames.Normalize(command.Mailbox);
        if (name == "INBOX")
        {
            return CommandResult.No("INBOX cannot be deleted", "CANNOT");
        }

        var store = session.Store.Mailboxes;
        var info = await store.FindMailboxAsync(session.AccountId, name, cancellationToken);
        if (info is null)
        {
            var all = await store.ListMailboxesAsync(session.AccountId, cancellationToken);
            return all.Any(m => m.Name.StartsWith(name + "/", StringComparison.Ordinal))
                ? CommandResult.No("Name has inferior hierarchical names", "INUSE")
                : CommandResult.No("No such mailbox", "NONEXISTENT");
        }

        if (session.Selected?.Info.Id == info.Id)
        {
            // RFC 9051 §6.3.5 allows deleting the selected mailbox; the session leaves it.
            session.Deselect();
            session.Writer.UntaggedStatus(ImapStatus.Ok, "CLOSED", "Mailbox deleted");
        }

        await store.DeleteMailboxAsync(info.Id, cancellationToken);
        return CommandResult.Ok("DELETE completed");
    }
}

/// <summary>RFC 9051 §6.3.6 RENAME: inferiors follow; renaming INBOX moves its messages to the
/// new mailbox and leaves INBOX empty. UIDVALIDITY is kept by the store.</summary>
internal sealed class RenameHandler : CommandHandler<RenameCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, RenameCommand command, CancellationToken cancellationToken)
    {
        var from = MailboxNames.Normalize(command.Mailbox);
        var to = MailboxNames.Normalize(command.NewName);
        if (!MailboxNames.IsValidNew(to) || to == "INBOX")
        {
            return CommandResult.No("Invalid mailbox name", "CANNOT");
        }

        if (to.StartsWith(from + "/", StringComparison.Ordinal))
        {
            return CommandResult.No("Cannot move a mailbox under itself", "CANNOT");
        }

        var store = session.Store.Mailboxes;
        var account = session.AccountId;
        var source = await store.FindMailboxAsync(account, from, cancellationToken);
        if (source is null)
        {
            return CommandResult.No("No such mailbox", "NONEXISTENT");
        }

        var all = await store.ListMailboxesAsync(account, cancellationToken);
        if (all.Any(m => m.Name == to || m.Name.StartsWith(to + "/", StringComparison.Ordinal)))
        {
            return CommandResult.No("Target mailbox already exists", "ALREADYEXISTS");
        }

        await CreateAncestorsAsync(session, to, cancellationToken);
        if (from == "INBOX")
        {
            // RFC 9051 §6.3.6: move all messages in INBOX to the new mailbox; INBOX stays, empty.
            var target = await store.CreateMailboxAsync(account, to, SpecialUse.None, cancellationToken);
            var uids = (await store.ListMessagesAsync(source.Id, cancellationToken)).Select(m => m.Uid).ToList();
            if (uids.Count > 0)
            {
                await store.MoveAsync(source.Id, uids, target.Id, cancellationToken);
            }

            return CommandResult.Ok("RENAME completed");
        }

        // Inferiors first-class rows: rename each.
        foreach (var child in all.Where(m => m.Name.StartsWith(from + "/", StringComparison.Ordinal)).OrderByDescending(m => m.Name.Length))
        {
            await store.RenameMailboxAsync(child.Id, to + child.Name[from.Length..], cancellationToken);
        }

        await store.RenameMailboxAsync(source.Id, to, cancellationToken);
        return CommandResult.Ok("RENAME completed");
    }

    private static async Task CreateAncestorsAsync(ImapSession session, string name, CancellationToken cancellationToken)
    {
        var store = session.Store.Mailboxes;
        foreach (var ancestor in MailboxNames.Ancestors(name))
        {
            if (await store.FindMailboxAsync(session.AccountId, ancestor, cancellationToken) is null)
            {
                await store.CreateMailboxAsync(session.AccountId, ancestor, SpecialUse.None, cancellationToken);
            }
        }
    }
}

/// <summary>RFC 9051 §6.3.7 SUBSCRIBE / §6.3.8 UNSUBSCRIBE (by name; the mailbox need not exist to unsubscribe).</summary>
internal sealed class SubscribeHandler : CommandHandler<SubscribeCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, SubscribeCommand command, CancellationToken cancellationToken)
    {
        var name = MailboxNames.Normalize(command.Mailbox);
        if (command.Subscribe && await session.Store.Mailboxes.FindMailboxAsync(session.AccountId, name, cancellationToken) is null)
        {
            return CommandResult.No("No such mailbox", "NONEXISTENT");
        }

        await session.Store.Mailboxes.SetSubscribedAsync(session.AccountId, name, command.Subscribe, cancellationToken);
        return CommandResult.Ok(command.Name + " completed");
    }
}

/// <summary>RFC 9051 §6.3.11 STATUS (RFC 8438 SIZE, RFC 9051 DELETED, RFC 7162 HIGHESTMODSEQ).</summary>
internal sealed class StatusHandler : CommandHandler<StatusCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, StatusCommand command, CancellationToken cancellationToken)
    {
        foreach (var item in command.Items)
        {
            if (!IsKnown(item))
            {
                return CommandResult.Bad("Unknown status item");
            }
        }

        var info = await session.Store.Mailboxes.FindMailboxAsync(session.AccountId, MailboxNames.Normalize(command.Mailbox), cancellationToken);
        if (info is null)
        {
            return CommandResult.No("No such mailbox", "NONEXISTENT");
        }

        await WriteStatusAsync(session, info, command.Items, cancellationToken);
        return CommandResult.Ok("STATUS completed");
    }

    public static bool IsKnown(string item) => item is "MESSAGES" or "UIDNEXT" or "UIDVALIDITY" or "UNSEEN" or "DELETED" or "SIZE" or "RECENT" or "HIGHESTMODSEQ" or "APPENDLIMIT";

    public static async Task WriteStatusAsync(ImapSession session, MailboxInfo info, IReadOnlyList<string> items, CancellationToken cancellationToken)
    {
        if (items.Any(i => i is "HIGHESTMODSEQ"))
        {
            session.Enable(Enabled.CondStore);
        }

        var counts = await session.Store.Mailboxes.GetCountsAsync(info.Id, cancellationToken);
        var w = session.Writer.Untagged().Raw("STATUS "u8).Mailbox(info.Name).Raw(" ("u8);
        var first = true;
        foreach (var item in items)
        {
            if (!first)
            {
                w.Space();
            }

            first = false;
            w.Ascii(item).Space();
            switch (item)
            {
                case "MESSAGES": w.Number((long)counts.Messages); break;
                case "UIDNEXT": w.Number((ulong)info.UidNext); break;
                case "UIDVALIDITY": w.Number((ulong)info.UidValidity); break;
                case "UNSEEN": w.Number((long)counts.Unseen); break;
                case "DELETED": w.Number((long)counts.Deleted); break;
                case "SIZE": w.Number(counts.Size); break;
                case "RECENT": w.Number((long)counts.Recent); break;
                case "HIGHESTMODSEQ": w.Number(info.HighestModSeq); break;
                default: w.Number(session.Services.Options.MaxMessageSize); break;
            }
        }

        w.Close().EndLine();
    }
}