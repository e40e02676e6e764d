using System.Buffers;
using System.IO.Pipelines;

using Microsoft.Extensions.Logging;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Pop3.Protocol;
using Pochta.Sasl;
using Pochta.Storage;

namespace Pochta.Pop3;

/// <summary>RFC 1939 §3 session states. UPDATE is entered only by QUIT from TRANSACTION.</summary>
public enum Pop3State
{
    Authorization,
    Transaction,
    Update,
}

/// <summary>What every session shares: stores, authenticator, settings, clock, locks.</summary>
internal sealed record Pop3Services(
    IMailStore Store,
    IAuthenticator Authenticator,
    Pop3Options Options,
    ServerOptions Server,
    Pop3MaildropRegistry Registry,
    TimeProvider Time,
    ILogger Logger);

/// <summary>
/// One POP3 session (RFC 1939): reads commands, checks them against <see cref="Pop3CommandTable"/>
/// and runs their handler. Responses are buffered and flushed when the client has nothing more
/// buffered (RFC 2449 §6.6 PIPELINING: answers in order, one flush per batch).
/// </summary>
internal sealed partial class Pop3Session : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private const int TopChunkSize = 8 * 1024;

    /// <summary>Message bytes written before a multi-line response flushes mid-message.</summary>
    private const int FlushThreshold = 256 * 1024;
    private readonly Pop3CommandReader _reader;
    private readonly HashSet<uint> _pendingSeen = [];
    private int _authFailures;
    private int _badCommands;
    private bool _timedOut;
    private CancellationTokenSource? _idle;
    private CancellationTokenSource? _idleLinked;

    // Read-ahead (see ReadAheadAsync): the message number wanted next, and the one body held.
    private int _readAheadWanted;
    private int _readAheadNumber;
    private Stream? _readAhead;

    public Pop3Session(MailConnection connection, Pop3Services services)
    {
        Connection = connection;
        Services = services;
        _reader = new Pop3CommandReader(new Pop3ReaderLimits { LineLengthMargin = services.Options.LineLengthMargin });
    }

    public MailConnection Connection { get; }

    public Pop3Services Services { get; }

    public Pop3State State { get; private set; } = Pop3State.Authorization;

    /// <summary>The name of a successful USER, consumed by the PASS that must follow it (RFC 1939 §7).</summary>
    public string? PendingUser { get; set; }

    public Maildrop? Maildrop { get; private set; }

    public AuthenticatedUser? User { get; private set; }

    /// <summary>RFC 6856 UTF8 was issued.</summary>
    public bool Utf8Enabled { get; set; }

    /// <summary>Set by a handler: flush and close after this command.</summary>
    public bool CloseRequested { get; set; }

    private PipeWriter Output => Connection.Output;

    private PipeReader Input => Connection.Input;

    public void Ok(ReadOnlySpan<byte> text) => Pop3ResponseWriter.Ok(Output, text);

    public void Err(Pop3ResponseCode code, ReadOnlySpan<byte> text) => Pop3ResponseWriter.Err(Output, code, text);

    public void Err(ReadOnlySpan<byte> text) => Pop3ResponseWriter.Err(Output, Pop3ResponseCode.None, text);

    public IBufferWriter<byte> Writer => Output;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Connection.OverConnectionLimit)
        {
            Err(Pop3ResponseCode.SysTemp, "Too many connections from your address, try again later"u8);
            await Output.FlushAsync(cancellationToken);
            return;
        }

        Ok("Pochta POP3 server ready"u8);
        try
        {
            while (!CloseRequested)
            {
                var result = await ReadCommandAsync(cancellationToken);
                if (result is not { } read)
                {
                    // Client gone, or RFC 1939 §3 autologout: close without UPDATE and without
                    // sending any response.
                    if (_timedOut)
                    {
                        LogIdleTimeout(Services.Logger, Connection.Id);
                        return;
                    }

                    break;
                }

                await DispatchAsync(read, cancellationToken);
            }

            await Output.FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Server stopping or client gone: best-effort goodbye; nothing is deleted.
            await TrySayGoodbyeAsync();
        }
        finally
        {
            await DropReadAheadAsync();
            await CommitPendingSeenAsync(CancellationToken.None);
        }
    }

    public void Dispose()
    {
        Maildrop?.Dispose();
        _idleLinked?.Dispose();
        _idle?.Dispose();
    }

    private async Task DispatchAsync(Pop3ReadResult read, CancellationToken cancellationToken)
    {
        if (read.Status == Pop3ReadStatus.Fatal)
        {
            Err("Line too long"u8);
            CloseRequested = true;
            return;
        }

        if (read.Kind != Pop3CommandKind.Pass && read.Kind != Pop3CommandKind.User)
        {
            PendingUser = null;
        }

        if (read.Status == Pop3ReadStatus.Error)
        {
            Err(read.Error switch
            {
                Pop3ReadError.LineTooLong => "Line too long"u8,
                Pop3ReadError.UnknownCommand => "Unknown command"u8,
                Pop3ReadError.InvalidNumber => "Invalid number"u8,
                Pop3ReadError.InvalidEncoding => "Invalid UTF-8"u8,
                _ => "Syntax error"u8,
            });
            CountBadCommand();
            return;
        }

        var command = read.Command!;
        var entry = Pop3CommandTable.Get(command.Kind);
        if (!entry.AllowedIn(State))
        {
            Err("Command not valid in this state"u8);
            CountBadCommand();
            return;
        }

        await entry.Handler.HandleAsync(this, command, cancellationToken);
    }

    private void CountBadCommand()
    {
        if (++_badCommands >= Services.Options.MaxBadCommands)
        {
            Err("Too many invalid commands"u8);
            CloseRequested = true;
        }
    }

    /// <summary>Reads the next command. Null when the client closed the connection or was idle too long.</summary>
    private async ValueTask<Pop3ReadResult?> ReadCommandAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await ReadInputAsync(cancellationToken) is not { } read)
            {
                return null;
            }

            var sr = new SequenceReader<byte>(read.Buffer);
            var result = _reader.TryReadCommand(ref sr);
            Input.AdvanceTo(sr.Position);
            if (result.Status != Pop3ReadStatus.NeedMoreData)
            {
                return result;
            }

            if (read.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads one SASL response line (RFC 5034 §4). Null when the connection ended.</summary>
    public async ValueTask<(SaslLineStatus Status, byte[] Line)?> ReadSaslLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await ReadInputAsync(cancellationToken) is not { } read)
            {
                return null;
            }

            var sr = new SequenceReader<byte>(read.Buffer);
            var status = _reader.TryReadSaslLine(ref sr);
            var line = status == SaslLineStatus.Line ? _reader.SaslLine.ToArray() : [];
            Input.AdvanceTo(sr.Position);
            if (status != SaslLineStatus.NeedMoreData)
            {
                return (status, line);
            }

            if (read.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Takes what is buffered; when nothing is, flushes the answers so far (RFC 2449
    /// §6.6: one write per pipelined batch), then waits for input under the idle timer.</summary>
    private async ValueTask<ReadResult?> ReadInputAsync(CancellationToken cancellationToken)
    {
        if (Input.TryRead(out var buffered))
        {
            if (!buffered.Buffer.IsEmpty || buffered.IsCompleted)
            {
                return buffered;
            }

            Input.AdvanceTo(buffered.Buffer.Start);
        }

        var flush = await Output.FlushAsync(cancellationToken);
        if (flush.IsCompleted)
        {
            return null;
        }

        if (_readAheadWanted != 0)
        {
            await ReadAheadAsync(cancellationToken);
        }

        // One timer and one linked token per session, re-armed per wait (not two new sources per command).
        _idle ??= new CancellationTokenSource(Timeout.InfiniteTimeSpan, Services.Time);
        _idleLinked ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _idle.Token);
        _idle.CancelAfter(Services.Options.IdleTimeout);
        try
        {
            var read = await Input.ReadAsync(_idleLinked.Token);
            return read.IsCanceled ? null : read;
        }
        catch (OperationCanceledException) when (_idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _timedOut = true;
            return null;
        }
        finally
        {
            if (!_idle.IsCancellationRequested)
            {
                _idle.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
    }

    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => Output.FlushAsync(cancellationToken);

    /// <summary>After STLS: the plaintext reader state is gone (RFC 2595 §4).</summary>
    public void ResetAfterTls()
    {
        _reader.Reset();
        PendingUser = null;
    }

    /// <summary>
    /// Authenticated: lock the maildrop (INBOX), apply the retention rule, snapshot. On any refusal
    /// the session stays in AUTHORIZATION (RFC 1939 §4, RFC 2449 §8.1).
    /// </summary>
    public async Task CompleteLoginAsync(AuthenticatedUser user, CancellationToken cancellationToken)
    {
        var store = Services.Store;
        var inbox = await store.Mailboxes.FindMailboxAsync(user.AccountId, "INBOX", cancellationToken);
        if (inbox is null)
        {
            Err(Pop3ResponseCode.SysPerm, "No maildrop for this account"u8);
            return;
        }

        var lease = Services.Registry.TryLock(inbox.Id);
        if (lease is null)
        {
            Err(Pop3ResponseCode.InUse, "Maildrop is in use by another POP3 session"u8);
            return;
        }

        // RFC 2449 §8.1.2: a login sooner than LOGIN-DELAY after the previous one is refused.
        var delay = TimeSpan.FromSeconds(Services.Options.LoginDelaySeconds ?? 0);
        if (!Services.Registry.TryRecordLogin(user.AccountId, delay))
        {
            lease.Dispose();
            Err(Pop3ResponseCode.LoginDelay, "Logged in too recently, try again later"u8);
            return;
        }

        IReadOnlyList<MessageEntry> entries;
        try
        {
            entries = await store.Mailboxes.ListMessagesAsync(inbox.Id, cancellationToken);
            if (Services.Options.ExpireDays is { } days)
            {
                entries = await ExpireAsync(inbox, entries, days, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            lease.Dispose();
            LogMaildropFailed(Services.Logger, e, user.AccountId);
            Err(Pop3ResponseCode.SysTemp, "Maildrop unavailable, try again later"u8);
            return;
        }

        // Messages an IMAP client flagged \Deleted are on their way out: not part of the maildrop.
        var snapshot = entries.Where(m => (m.Flags & MessageFlags.Deleted) == 0).ToList();
        Maildrop = new Maildrop(inbox, snapshot, lease);
        User = user;
        State = Pop3State.Transaction;
        LogLogin(Services.Logger, user.AccountId, snapshot.Count);
        Pop3ResponseWriter.MaildropSummary(Output, Maildrop.LiveCount, Maildrop.LiveSize);
    }

    /// <summary>
    /// Pop3:ExpireDays: expunge the INBOX messages that are \Seen (retrieved) and whose internal
    /// date is more than <paramref name="days"/> days in the past. Storage keeps no retrieval time, so
    /// the arrival date is the clock; a message can thus go sooner than N days after its retrieval
    /// when it was retrieved long after it arrived. Runs before the snapshot, so numbers stay fixed.
    /// </summary>
    private async Task<IReadOnlyList<MessageEntry>> ExpireAsync(MailboxInfo inbox, IReadOnlyList<MessageEntry> entries, int days, CancellationToken cancellationToken)
    {
        var cutoff = Services.Time.GetUtcNow() - TimeSpan.FromDays(days);
        var expired = entries.Where(m => (m.Flags & MessageFlags.Seen) != 0 && m.InternalDate <= cutoff).Select(m => m.Uid).ToList();
        if (expired.Count == 0)
        {
            return entries;
        }

        var result = await Services.Store.Mailboxes.ExpungeAsync(inbox.Id, expired, cancellationToken);
        LogExpired(Services.Logger, inbox.AccountId, result.Expunged.Count);
        var gone = result.Expunged.ToHashSet();
        return entries.Where(m => !gone.Contains(m.Uid)).ToList();
    }

    /// <summary>A failed authentication: [AUTH] after a delay; too many close the connection.</summary>
    public async Task FailAuthenticationAsync(CancellationToken cancellationToken)
    {
        _authFailures++;
        LogAuthFailed(Services.Logger, Connection.RemoteEndPoint?.ToString() ?? "-", _authFailures);
        if (Services.Options.AuthFailureDelay > TimeSpan.Zero)
        {
            await Output.FlushAsync(cancellationToken);
            await Task.Delay(Services.Options.AuthFailureDelay, Services.Time, cancellationToken);
        }

        if (_authFailures >= Services.Options.MaxAuthFailures)
        {
            Err(Pop3ResponseCode.Auth, "Authentication failed; too many failures, closing"u8);
            CloseRequested = true;
            return;
        }

        Err(Pop3ResponseCode.Auth, "Authentication failed"u8);
    }

    /// <summary>RETR retrieved the message: \Seen is committed in UPDATE, or when the session ends
    /// without it (see <see cref="CommitPendingSeenAsync"/>), never one write per command.</summary>
    public void MarkRetrieved(int number)
    {
        var entry = Maildrop![number];
        if ((entry.Flags & MessageFlags.Seen) == 0)
        {
            _pendingSeen.Add(entry.Uid);
        }
    }

    /// <summary>Commits the pending \Seen marks (a session that ends without UPDATE: dropped,
    /// timed out, server stopping) in one StoreFlagsAsync call.</summary>
    public async Task CommitPendingSeenAsync(CancellationToken cancellationToken)
    {
        if (TakePendingSeen() is { } seen)
        {
            await StoreSeenAsync(seen, cancellationToken);
        }
    }

    private uint[]? TakePendingSeen(Maildrop? except = null)
    {
        if (_pendingSeen.Count == 0 || Maildrop is null)
        {
            return null;
        }

        if (except is not null)
        {
            _pendingSeen.ExceptWith(except.DeletedUids());
        }

        var uids = _pendingSeen.Order().ToArray();
        _pendingSeen.Clear();
        return uids.Length == 0 ? null : uids;
    }

    private async Task StoreSeenAsync(uint[] uids, CancellationToken cancellationToken)
    {
        try
        {
            await Services.Store.Mailboxes.StoreFlagsAsync(Maildrop!.Mailbox.Id, uids, FlagOperation.Add, MessageFlags.Seen, [], null, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // \Seen only feeds the retention rule; a failure must not fail the session.
            LogSeenFailed(Services.Logger, e, Maildrop!.Mailbox.Id);
        }
    }

    /// <summary>
    /// RFC 1939 §6 UPDATE: expunge the marked messages, then answer. The \Seen marks of the
    /// retrieved messages that stay are queued at the same moment, so both usually share one
    /// group commit; +OK is written only after the expunge is committed (fsynced).
    /// </summary>
    public async Task EnterUpdateAsync(CancellationToken cancellationToken)
    {
        State = Pop3State.Update;
        var maildrop = Maildrop!;
        var uids = maildrop.DeletedUids();
        var seen = TakePendingSeen(except: maildrop) is { } marks ? StoreSeenAsync(marks, cancellationToken) : Task.CompletedTask;
        try
        {
            if (uids.Count > 0)
            {
                await (Services.Store.Messages is IBulkExpunge bulk
                    ? bulk.ExpungeManyAsync(maildrop.Mailbox.Id, uids, cancellationToken)
                    : Services.Store.Mailboxes.ExpungeAsync(maildrop.Mailbox.Id, uids, cancellationToken));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogExpungeFailed(Services.Logger, e, maildrop.Mailbox.Id);
            await seen;
            Err(Pop3ResponseCode.SysTemp, "Some deleted messages were not removed"u8);
            CloseRequested = true;
            return;
        }

        await seen;
        Pop3ResponseWriter.Ok(Output, maildrop.LiveCount == 0
            ? "Pochta POP3 server signing off (maildrop empty)"
            : $"Pochta POP3 server signing off ({maildrop.LiveCount} message{(maildrop.LiveCount == 1 ? "" : "s")} left)");
        CloseRequested = true;
    }

    /// <summary>
    /// Streams a stored message as a multi-line response (RETR, TOP): the status line, the message
    /// read in bounded chunks through <see cref="Pop3MultilineEncoder"/>, then ".". The output is
    /// flushed only when <see cref="FlushThreshold"/> bytes are pending (the pipe's back-pressure
    /// bounds memory); the end of the response goes out with the batch (<see cref="ReadInputAsync"/>).
    /// Returns false when the message is gone (nothing was written then).
    /// </summary>
    public async Task<bool> StreamMessageAsync(int number, MessageEntry entry, ReadOnlyMemory<byte> okText, int? topLines, CancellationToken cancellationToken)
    {
        _readAheadWanted = 0;
        Stream? stream = null;
        if (_readAhead is not null && _readAheadNumber == number && topLines is null)
        {
            stream = _readAhead;
            _readAhead = null;
        }
        else if (topLines is null)
        {
            await DropReadAheadAsync();
        }

        try
        {
            stream ??= await Services.Store.Messages.OpenMessageAsync(entry.MessageId, cancellationToken);
        }
        catch (Exception e) when (e is StoreNotFoundException or FileNotFoundException)
        {
            return false;
        }

        await using (stream)
        {
            Ok(okText.Span);
            var encoder = new Pop3MultilineEncoder(topLines);

            // TOP usually needs only the first bytes; RETR reads the whole message.
            var chunk = topLines is null ? ChunkSize : TopChunkSize;
            var buffer = ArrayPool<byte>.Shared.Rent(chunk);
            try
            {
                long pending = 0;
                while (!encoder.IsComplete)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(0, chunk), cancellationToken);
                    if (n == 0)
                    {
                        break;
                    }

                    encoder.Write(buffer.AsSpan(0, n), Output);
                    pending += n;
                    if (pending >= FlushThreshold)
                    {
                        pending = 0;
                        var flush = await Output.FlushAsync(cancellationToken);
                        if (flush.IsCompleted)
                        {
                            CloseRequested = true;
                            return true;
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            encoder.Complete(Output);
        }

        // A download client asks for the next message next.
        if (topLines is null && Maildrop!.TryGetLive(number + 1, out _))
        {
            _readAheadWanted = number + 1;
        }

        return true;
    }

    /// <summary>
    /// Read-ahead for lock-step clients (download and delete: RETR n, DELE n, RETR n+1, ...): once
    /// a RETR response is flushed and no command is buffered, the body of the next message is
    /// opened while the client reads the response, so the next RETR starts streaming at once. It
    /// costs no extra work (the open is the one the RETR would do) and runs on the session's own
    /// flow, never concurrently with a command. Bounded: one body per session (an inline body of at
    /// most the store's small-blob size, or an open file). The maildrop is a login snapshot, so a
    /// body read ahead is served even if another protocol expunged the message just afterwards,
    /// as it would be had the RETR come a moment sooner. Failures are left to the RETR itself.
    /// </summary>
    private async ValueTask ReadAheadAsync(CancellationToken cancellationToken)
    {
        var number = _readAheadWanted;
        _readAheadWanted = 0;
        if (_readAhead is not null || Maildrop is null || !Maildrop.TryGetLive(number, out var entry))
        {
            return;
        }

        try
        {
            _readAhead = await Services.Store.Messages.OpenMessageAsync(entry.MessageId, cancellationToken);
            _readAheadNumber = number;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The RETR opens it again and reports what went wrong.
        }
    }

    private async ValueTask DropReadAheadAsync()
    {
        if (_readAhead is { } stream)
        {
            _readAhead = null;
            await stream.DisposeAsync();
        }
    }

    private async Task TrySayGoodbyeAsync()
    {
        try
        {
            Err(Pop3ResponseCode.SysTemp, "Server shutting down"u8);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), Services.Time);
            await Output.FlushAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // The peer is gone.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "POP3 session {Connection} closed by the autologout timer")]
    private static partial void LogIdleTimeout(ILogger logger, string connection);

    [LoggerMessage(Level = LogLevel.Information, Message = "POP3 login of account {AccountId}: {Messages} messages")]
    private static partial void LogLogin(ILogger logger, long accountId, int messages);

    [LoggerMessage(Level = LogLevel.Information, Message = "POP3 authentication failed from {Remote} (failure {Count})")]
    private static partial void LogAuthFailed(ILogger logger, string remote, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "POP3 retention expunged {Count} retrieved messages of account {AccountId}")]
    private static partial void LogExpired(ILogger logger, long accountId, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "POP3 maildrop of account {AccountId} could not be opened")]
    private static partial void LogMaildropFailed(ILogger logger, Exception exception, long accountId);

    [LoggerMessage(Level = LogLevel.Error, Message = "POP3 UPDATE failed for mailbox {MailboxId}")]
    private static partial void LogExpungeFailed(ILogger logger, Exception exception, long mailboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "POP3 could not mark messages seen in mailbox {MailboxId}")]
    private static partial void LogSeenFailed(ILogger logger, Exception exception, long mailboxId);
}