using System.Globalization;

using Pochta.Imap.Protocol;
using Pochta.Storage;

namespace Pochta.Imap.Handlers;

/// <summary>An APPEND in progress: the target and each message staged so far (RFC 3502: all
/// or nothing, so nothing is committed before the last literal arrived).</summary>
internal sealed class AppendState : IAsyncDisposable
{
    public required string Tag { get; init; }

    public MailboxInfo? Mailbox { get; init; }

    /// <summary>Why the command will fail (set on the first problem; later literals are discarded).</summary>
    public CommandResult? Failure { get; set; }

    public List<(StagedMessage Message, AppendMessage Meta)> Staged { get; } = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var (message, _) in Staged)
        {
            await message.DisposeAsync();
        }

        Staged.Clear();
    }
}

/// <summary>
/// RFC 9051 §6.3.12 APPEND with RFC 3502 MULTIAPPEND, RFC 7888 LITERAL-, RFC 7889 APPENDLIMIT and
/// RFC 4315 APPENDUID. The reader stops at each message literal; its bytes stream from the
/// connection into an <see cref="IMessageWriter"/> and are never held in memory whole.
/// </summary>
internal sealed class AppendHandler : ICommandHandler
{
    /// <summary>APPEND is driven by the reader's literal events, not by a parsed command.</summary>
    public Task<CommandResult> ExecuteAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken) =>
        Task.FromResult(CommandResult.Bad("Malformed APPEND"));

    /// <summary>Handles one message literal. Returns a result when the command is finished early
    /// (refused before "+"), null when reading should continue.</summary>
    public static async Task<CommandResult?> ReceiveLiteralAsync(ImapSession session, AppendMessage message, CancellationToken cancellationToken)
    {
        if (message.IsFirst)
        {
            if (session.PendingAppend is not null)
            {
                await session.PendingAppend.DisposeAsync();
            }

            var spec = CommandTable.Commands["APPEND"];
            CommandResult? failure = null;
            MailboxInfo? mailbox = null;
            if ((spec.Allowed & session.State) == 0)
            {
                failure = CommandResult.Bad("Command not valid in this state");
            }
            else
            {
                mailbox = await session.Store.Mailboxes.FindMailboxAsync(session.AccountId, MailboxNames.Normalize(message.Mailbox), cancellationToken);
                if (mailbox is null)
                {
                    // RFC 9051 §6.3.12: TRYCREATE when the target does not exist.
                    failure = CommandResult.No("No such mailbox", "TRYCREATE");
                }
            }

            session.PendingAppend = new AppendState { Tag = message.Tag, Mailbox = mailbox, Failure = failure };
        }

        var state = session.PendingAppend!;
        if (state.Failure is null && message.Size == 0)
        {
            state.Failure = CommandResult.No("Empty message", "CANNOT");
        }

        // RFC 9208 §4.3: over quota is refused before "+" when the literal size tells already.
        state.Failure ??= await ImapQuota.CheckAppendAsync(session, state.Staged.Sum(s => s.Message.Length) + message.Size, state.Staged.Count + 1, cancellationToken);

        if (state.Failure is { } refused && message.Synchronizing)
        {
            // Refused before "+": the client sends nothing more for this command.
            session.ReaderReset();
            await state.DisposeAsync();
            session.PendingAppend = null;
            return refused;
        }

        if (message.Synchronizing)
        {
            session.Writer.Continuation("Ready for literal data");
            await session.FlushAsync(cancellationToken);
        }

        IMessageWriter? writer = state.Failure is null ? session.Store.Messages.CreateWriter() : null;
        try
        {
            var remaining = message.Size;
            while (remaining > 0)
            {
                var read = await session.ReadRawAsync(cancellationToken);
                var buffer = read.Buffer;
                var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
                if (writer is not null)
                {
                    foreach (var segment in take)
                    {
                        await writer.WriteAsync(segment, cancellationToken);
                    }
                }

                remaining -= take.Length;
                session.Input.AdvanceTo(take.End);
                if (remaining > 0 && (read.IsCompleted || read.IsCanceled))
                {
                    throw new SessionEndedException();
                }
            }

            if (writer is not null)
            {
                state.Staged.Add((await writer.CompleteAsync(cancellationToken), message));
            }
        }
        finally
        {
            if (writer is not null)
            {
                await writer.DisposeAsync();
            }
        }

        session.ReaderLiteralConsumed();
        return null;
    }

    /// <summary>The command line ended after the last literal: index and commit every message.</summary>
    public static async Task<CommandResult> CompleteAsync(ImapSession session, CancellationToken cancellationToken)
    {
        var state = session.PendingAppend;
        session.PendingAppend = null;
        if (state is null)
        {
            return CommandResult.Bad("Malformed APPEND");
        }

        await using (state)
        {
            if (state.Failure is { } failure)
            {
                return failure;
            }

            var mailbox = state.Mailbox!;
            var uids = new List<uint>();
            var now = session.Services.Time.GetUtcNow();
            if (state.Staged.Count > 1 && session.Store.Messages is IAtomicCommit atomic && state.Staged.Sum(s => s.Message.Length) <= AtomicBatchLimit)
            {
                return await CommitAtomicallyAsync(session, atomic, mailbox, state.Staged, now, cancellationToken);
            }

            try
            {
                foreach (var (message, meta) in state.Staged)
                {
                    var request = await RequestAsync(session, mailbox, message, meta, now, cancellationToken);
                    uids.Add((await session.Store.Messages.CommitAsync(request, cancellationToken)).Uids[0]);
                }
            }
            catch (Exception e) when (uids.Count > 0 || e is QuotaExceededException)
            {
                // RFC 3502 §3: when not every message of a MULTIAPPEND can be appended, none is.
                // Each message is its own commit, so the ones already committed are expunged
                // again (atomic for clients; a crash between the commits can leave them).
                await UndoAsync(session, mailbox.Id, uids);
                if (e is QuotaExceededException)
                {
                    // RFC 9208 §4.3 (a concurrent delivery took the room after the check above).
                    return ImapQuota.OverQuota;
                }

                throw;
            }

            // RFC 4315 §3: APPENDUID uidvalidity uid-set.
            var code = "APPENDUID " + mailbox.UidValidity.ToString(CultureInfo.InvariantCulture) + " " + SequenceSet.Format(uids);
            return CommandResult.Ok("APPEND completed", code);
        }
    }

    /// <summary>RFC 3502 §3 all-or-none across a crash too: every message of the MULTIAPPEND in one
    /// transaction. Their indexes are held in memory until the commit, so larger batches take the
    /// one-by-one path with its undo.</summary>
    private const long AtomicBatchLimit = 64L * 1024 * 1024;

    private static async Task<CommandResult> CommitAtomicallyAsync(ImapSession session, IAtomicCommit atomic, MailboxInfo mailbox, List<(StagedMessage Message, AppendMessage Meta)> staged, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var requests = new List<DeliveryRequest>(staged.Count);
        foreach (var (message, meta) in staged)
        {
            requests.Add(await RequestAsync(session, mailbox, message, meta, now, cancellationToken));
        }

        IReadOnlyList<DeliveryResult> results;
        try
        {
            results = await atomic.CommitAllAsync(requests, cancellationToken);
        }
        catch (QuotaExceededException)
        {
            // RFC 9208 §4.3 (a concurrent delivery took the room after the check at the start).
            return ImapQuota.OverQuota;
        }

        // RFC 4315 §3: APPENDUID uidvalidity uid-set.
        var code = "APPENDUID " + mailbox.UidValidity.ToString(CultureInfo.InvariantCulture) + " " + SequenceSet.Format(results.Select(r => r.Uids[0]).ToList());
        return CommandResult.Ok("APPEND completed", code);
    }

    /// <summary>One appended message as a delivery into the mailbox: indexed once, with its flags
    /// and its date-time (or the time of the command).</summary>
    private static async Task<DeliveryRequest> RequestAsync(ImapSession session, MailboxInfo mailbox, StagedMessage message, AppendMessage meta, DateTimeOffset now, CancellationToken cancellationToken)
    {
        byte[] index;
        await using (var read = message.OpenRead())
        {
            index = await session.Services.Indexer.BuildIndexAsync(read, cancellationToken);
        }

        return new DeliveryRequest(message, index, string.Empty, [new LocalDelivery(mailbox.Id, meta.Flags, meta.Keywords, meta.InternalDate ?? now)], [], null);
    }

    private static async Task UndoAsync(ImapSession session, long mailboxId, List<uint> uids)
    {
        if (uids.Count == 0)
        {
            return;
        }

        // Runs even when the command was cancelled (connection gone): bounded on its own.
        using var undo = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await session.Store.Mailboxes.ExpungeAsync(mailboxId, uids, undo.Token);
    }
}