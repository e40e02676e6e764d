using System.Buffers;
using System.IO.Pipelines;

using Microsoft.Extensions.Logging;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Imap.Handlers;
using Pochta.Imap.Protocol;
using Pochta.Sasl;
using Pochta.Storage;

namespace Pochta.Imap;

/// <summary>Extensions a client turned on with ENABLE (RFC 5161) or implicitly (CONDSTORE, RFC 7162 §3.1).</summary>
[Flags]
internal enum Enabled
{
    None = 0,
    Rev2 = 1,
    CondStore = 2,
    QResync = 4,
    Utf8Accept = 8,
}

/// <summary>
/// One IMAP connection (RFC 9051): state, the command loop, I/O and the selected-mailbox view.
/// The loop reads one command at a time; legality comes from <see cref="CommandTable"/>; each
/// command runs in its own handler; pending mailbox updates are sent before each tagged reply.
/// </summary>
internal sealed partial class ImapSession : IAsyncDisposable
{
    private readonly MailConnection _connection;
    private readonly ImapCommandReader _reader;
    private PipeReader _input;
    private PipeWriter _output;
    private IDisposable? _subscription;
    private CompressedTransport? _compressed;
    private int _selecting;
    private int _selectingChanged;

    public ImapSession(MailConnection connection, ImapServices services)
    {
        _connection = connection;
        Services = services;
        var o = services.Options;
        _reader = new ImapCommandReader(new ImapReaderLimits
        {
            MaxLineLength = o.MaxLineLength,
            MaxLineLengthBeforeAuth = o.MaxLineLengthBeforeAuth,
            MaxInlineLiteralBeforeAuth = o.MaxInlineLiteralBeforeAuth,
            MaxAppendSize = o.MaxMessageSize,
        });
        _input = connection.Input;
        _output = connection.Output;
        Writer = new ImapResponseWriter(_output);
    }

    public ImapServices Services { get; }

    public IMailStore Store => Services.Store;

    public MailConnection Connection => _connection;

    public ImapResponseWriter Writer { get; private set; }

    public PipeWriter Output => _output;

    public SessionStates State { get; private set; } = SessionStates.NotAuthenticated;

    public AuthenticatedUser? User { get; private set; }

    public SelectedMailbox? Selected { get; private set; }

    public Enabled Enabled { get; private set; }

    public bool Rev2 => (Enabled & Enabled.Rev2) != 0;

    public bool CondStore => (Enabled & (Enabled.CondStore | Enabled.QResync)) != 0;

    public bool QResync => (Enabled & Enabled.QResync) != 0;

    public bool IsCompressed => _compressed is not null;

    /// <summary>RFC 5182 SEARCHRES: the saved result as UIDs (empty until a SEARCH SAVE).</summary>
    public IReadOnlyList<uint> SavedSearch { get; set; } = [];

    public int FailedLogins { get; set; }

    /// <summary>The APPEND being received, if any (literal-by-literal, RFC 3502 MULTIAPPEND).</summary>
    public AppendState? PendingAppend { get; set; }

    public long AccountId => User?.AccountId ?? throw new InvalidOperationException("Not authenticated.");

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_connection.OverConnectionLimit)
            {
                // RFC 9051 §7.1.5: BYE as the greeting when the server refuses the connection.
                Writer.UntaggedStatus(ImapStatus.Bye, null, "Too many connections from your address");
                await FlushAsync(cancellationToken);
                return;
            }

            Writer.UntaggedStatus(ImapStatus.Ok, "CAPABILITY " + Capabilities.Build(this), "Pochta IMAP4rev2 ready");
            await FlushAsync(cancellationToken);
            await CommandLoopAsync(cancellationToken);
        }
        catch (SessionEndedException)
        {
            // The client went away or the session was ended with BYE: a normal end.
        }
        finally
        {
            await DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        _subscription = null;
        Selected?.Dispose();
        if (PendingAppend is not null)
        {
            await PendingAppend.DisposeAsync();
            PendingAppend = null;
        }

        if (_compressed is not null)
        {
            await _compressed.DisposeAsync();
            _compressed = null;
        }
    }

    private async Task CommandLoopAsync(CancellationToken cancellationToken)
    {
        while (State != SessionStates.Logout)
        {
            var read = await ReadCommandAsync(cancellationToken);
            if (read is null)
            {
                return;
            }

            var r = read.Value;
            switch (r.Status)
            {
                case ReadStatus.Request when r.Command is AppendCompleteCommand done:
                    await CompleteCommandAsync(done, await AppendHandler.CompleteAsync(this, cancellationToken), CommandTable.Commands["APPEND"].MayExpunge, cancellationToken);
                    break;
                case ReadStatus.Request:
                    await DispatchAsync(r.Command!, cancellationToken);
                    break;
                case ReadStatus.AppendLiteral:
                    var outcome = await AppendHandler.ReceiveLiteralAsync(this, r.Append!, cancellationToken);
                    if (outcome is { } failed)
                    {
                        await CompleteCommandAsync(new AppendCompleteCommand(r.Append!.Tag), failed, true, cancellationToken);
                    }

                    break;
                case ReadStatus.SyntaxError:
                    await DiscardAppendAsync();
                    WriteBad(r.Tag, "Syntax error in command");
                    await FlushAsync(cancellationToken);
                    break;
                case ReadStatus.LiteralTooLarge:
                    await DiscardAppendAsync();
                    if (r.IsAppend && r.Tag is not null)
                    {
                        // RFC 7889 §4: TOOBIG for a message over APPENDLIMIT; nothing was sent yet.
                        Writer.Tagged(r.Tag, State == SessionStates.NotAuthenticated ? ImapStatus.Bad : ImapStatus.No, State == SessionStates.NotAuthenticated ? null : "TOOBIG", State == SessionStates.NotAuthenticated ? "Command not valid in this state" : "Message too large");
                    }
                    else
                    {
                        WriteBad(r.Tag, "Literal too large");
                    }

                    await FlushAsync(cancellationToken);
                    break;
                default:
                    // ReadStatus.Fatal: the stream cannot be resynchronised (RFC 9051 §7.1.5).
                    Writer.UntaggedStatus(ImapStatus.Bye, null, r.Error switch
                    {
                        ReadError.LineTooLong => "Command line too long",
                        ReadError.CommandTooLarge => "Command too large",
                        _ => "Literal too large",
                    });
                    await FlushAsync(cancellationToken);
                    return;
            }
        }
    }

    private void WriteBad(string? tag, string text)
    {
        if (tag is null)
        {
            Writer.UntaggedStatus(ImapStatus.Bad, null, text);
        }
        else
        {
            Writer.Tagged(tag, ImapStatus.Bad, null, text);
        }
    }

    private async Task DiscardAppendAsync()
    {
        if (PendingAppend is not null)
        {
            await PendingAppend.DisposeAsync();
            PendingAppend = null;
        }
    }

    private async Task DispatchAsync(ImapCommand command, CancellationToken cancellationToken)
    {
        if (!CommandTable.Commands.TryGetValue(command.Name, out var spec))
        {
            Writer.Tagged(command.Tag, ImapStatus.Bad, null, "Unknown command");
            await FlushAsync(cancellationToken);
            return;
        }

        if ((spec.Allowed & State) == 0)
        {
            Writer.Tagged(command.Tag, ImapStatus.Bad, null, State == SessionStates.NotAuthenticated ? "Log in first" : "Command not valid in this state");
            await FlushAsync(cancellationToken);
            return;
        }

        CommandResult result;
        try
        {
            result = await spec.Handler.ExecuteAsync(this, command, cancellationToken);
        }
        catch (StoreNotFoundException)
        {
            result = CommandResult.No("No such mailbox", "NONEXISTENT");
        }
        catch (StoreConflictException)
        {
            result = CommandResult.No("Mailbox already exists", "ALREADYEXISTS");
        }
        catch (Exception e) when (e is not (OperationCanceledException or IOException or ObjectDisposedException or SessionEndedException))
        {
            LogCommandFailed(Services.Logger, e, command.Name);
            result = CommandResult.No("Internal error", "SERVERBUG");
        }

        await CompleteCommandAsync(command, result, spec.MayExpunge, cancellationToken);
    }

    private async Task CompleteCommandAsync(ImapCommand command, CommandResult result, bool mayExpunge, CancellationToken cancellationToken)
    {
        if (result.Sent)
        {
            await FlushAsync(cancellationToken);
            return;
        }

        if (Selected is not null && State == SessionStates.Selected)
        {
            await Selected.SyncAsync(this, mayExpunge, cancellationToken);
        }

        Writer.Tagged(command.Tag, result.Status, result.Code, result.Text);
        await FlushAsync(cancellationToken);
    }

    /// <summary>Reads until the reader produces something the loop must act on; null on end of
    /// stream or autologout (after BYE).</summary>
    private async Task<Protocol.ReadResult?> ReadCommandAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            System.IO.Pipelines.ReadResult read;
            using (var timeout = StartAutologoutTimer(cancellationToken))
            {
                try
                {
                    read = await _input.ReadAsync(timeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await AutologoutAsync(cancellationToken);
                    return null;
                }
                catch (OperationCanceledException)
                {
                    await ByeOnShutdownAsync();
                    throw new SessionEndedException();
                }
            }

            var buffer = read.Buffer;
            var result = Parse(_reader, buffer, out var consumed);
            if (result.Status == ReadStatus.NeedMoreData)
            {
                _input.AdvanceTo(consumed, buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    return null;
                }

                continue;
            }

            _input.AdvanceTo(consumed);
            if (result.Status == ReadStatus.NeedContinuation)
            {
                // RFC 9051 §7.5: ready for the rest of a synchronizing literal.
                Writer.Continuation("Ready for literal data");
                await FlushAsync(cancellationToken);
                continue;
            }

            return result;
        }
    }

    private static Protocol.ReadResult Parse(ImapCommandReader reader, ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var sr = new SequenceReader<byte>(buffer);
        var result = reader.TryRead(ref sr);
        consumed = sr.Position;
        return result;
    }

    private static ReadStatus ParseLine(ImapCommandReader reader, ReadOnlySequence<byte> buffer, out SequencePosition consumed, out byte[]? line)
    {
        var sr = new SequenceReader<byte>(buffer);
        var status = reader.TryReadLine(ref sr, out line);
        consumed = sr.Position;
        return status;
    }

    /// <summary>Reads one raw line (SASL response, IDLE's DONE). Throws <see cref="SessionEndedException"/>
    /// when the client went away, the line is too long, or the autologout timer fired.</summary>
    public async Task<byte[]> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await ReadRawAsync(cancellationToken);
            var buffer = read.Buffer;
            var status = ParseLine(_reader, buffer, out var consumed, out var line);
            if (status == ReadStatus.Request)
            {
                _input.AdvanceTo(consumed);
                return line!;
            }

            _input.AdvanceTo(consumed, buffer.End);
            if (status == ReadStatus.Fatal)
            {
                Writer.UntaggedStatus(ImapStatus.Bye, null, "Line too long");
                await FlushAsync(cancellationToken);
                throw new SessionEndedException();
            }

            if (read.IsCompleted || read.IsCanceled)
            {
                throw new SessionEndedException();
            }
        }
    }

    /// <summary>Consumes one line from an already completed read (IDLE); null when incomplete.</summary>
    public byte[]? TryTakeLine(System.IO.Pipelines.ReadResult read, out ReadStatus status)
    {
        var buffer = read.Buffer;
        status = ParseLine(_reader, buffer, out var consumed, out var line);
        if (status == ReadStatus.Request)
        {
            _input.AdvanceTo(consumed);
            return line;
        }

        _input.AdvanceTo(consumed, buffer.End);
        return null;
    }

    /// <summary>One read from the client with the autologout timer; the caller advances.</summary>
    public async Task<System.IO.Pipelines.ReadResult> ReadRawAsync(CancellationToken cancellationToken)
    {
        using var timeout = StartAutologoutTimer(cancellationToken);
        try
        {
            return await _input.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await AutologoutAsync(cancellationToken);
            throw new SessionEndedException();
        }
        catch (OperationCanceledException)
        {
            await ByeOnShutdownAsync();
            throw new SessionEndedException();
        }
    }

    /// <summary>RFC 9051 §7.1.5: the server is stopping (or the connection closed). Called only
    /// while waiting for the client, when every response so far is complete and flushed, so the
    /// BYE never lands inside another response. Bounded: a client that does not read is dropped.</summary>
    public async Task ByeOnShutdownAsync()
    {
        try
        {
            Writer.UntaggedStatus(ImapStatus.Bye, null, "Server shutting down");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), Services.Time);
            await _output.FlushAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is already gone or the client does not read: nothing more to do.
        }
    }

    public PipeReader Input => _input;

    /// <summary>The autologout timer (RFC 9051 §5.4), restarted at every read from the client.</summary>
    public AutologoutTimer StartAutologoutTimer(CancellationToken cancellationToken)
    {
        var limit = State == SessionStates.NotAuthenticated ? Services.Options.AutologoutNotAuthenticated : Services.Options.AutologoutAuthenticated;
        return new AutologoutTimer(limit, Services.Time, cancellationToken);
    }

    private async Task AutologoutAsync(CancellationToken cancellationToken)
    {
        Writer.UntaggedStatus(ImapStatus.Bye, null, "Autologout; idle for too long");
        await FlushAsync(cancellationToken);
        State = SessionStates.Logout;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var result = await _output.FlushAsync(cancellationToken);
        if (result.IsCompleted)
        {
            throw new SessionEndedException();
        }
    }

    /// <summary>Flushes when much output is buffered (streamed FETCH bodies).</summary>
    public ValueTask FlushIfLargeAsync(CancellationToken cancellationToken)
    {
        return _output.UnflushedBytes > 64 * 1024 ? FlushAsync(cancellationToken) : ValueTask.CompletedTask;
    }

    public void EndLogout() => State = SessionStates.Logout;

    /// <summary>Abandons the command being read (an APPEND refused before its literal).</summary>
    public void ReaderReset() => _reader.Reset();

    public void ReaderLiteralConsumed() => _reader.LiteralConsumed();

    public void Enable(Enabled flags)
    {
        Enabled |= flags;
        if ((flags & (Enabled.Utf8Accept | Enabled.Rev2)) != 0)
        {
            // RFC 9051 §5.1 / RFC 6855 §3: mailbox names and quoted strings are UTF-8 from now on.
            _reader.Utf8Mailboxes = (Enabled & Enabled.Utf8Accept) != 0;
            Writer.Utf8 = true;
        }
    }

    /// <summary>Login succeeded: relax limits, subscribe to the account's changes.</summary>
    public void SetAuthenticated(AuthenticatedUser user)
    {
        User = user;
        State = SessionStates.Authenticated;
        _reader.Authenticated = true;
        FailedLogins = 0;
        _subscription = Store.Changes.Subscribe(user.AccountId, OnChange);
    }

    /// <summary>RFC 8437 UNAUTHENTICATE: back to the not-authenticated state, all session state reset.</summary>
    public void ResetToNotAuthenticated()
    {
        Deselect();
        _subscription?.Dispose();
        _subscription = null;
        User = null;
        Enabled = Enabled.None;
        SavedSearch = [];
        _reader.Authenticated = false;
        _reader.Utf8Mailboxes = false;
        Writer.Utf8 = false;
        State = SessionStates.NotAuthenticated;
    }

    /// <summary>SELECT/EXAMINE is about to read the mailbox's state: a change committed in the
    /// account from now until <see cref="SetSelected"/> is not lost (the new view syncs at once).</summary>
    public void BeginSelect()
    {
        Interlocked.Exchange(ref _selectingChanged, 0);
        Interlocked.Exchange(ref _selecting, 1);
    }

    public void SetSelected(SelectedMailbox mailbox)
    {
        Selected?.Dispose();
        Selected = mailbox;
        SavedSearch = [];
        State = SessionStates.Selected;
        if (Interlocked.Exchange(ref _selecting, 0) != 0 && Interlocked.Exchange(ref _selectingChanged, 0) != 0)
        {
            mailbox.Signal();
        }
    }

    public void Deselect()
    {
        Selected?.Dispose();
        Selected = null;
        SavedSearch = [];
        if (State == SessionStates.Selected)
        {
            State = SessionStates.Authenticated;
        }
    }

    private void OnChange(MailboxChange change)
    {
        // Runs on the publisher's thread: only signal.
        var selected = Selected;
        if (selected is not null && selected.Info.Id == change.MailboxId)
        {
            selected.Signal();
        }

        if (Volatile.Read(ref _selecting) != 0)
        {
            Interlocked.Exchange(ref _selectingChanged, 1);
        }
    }

    /// <summary>The transport changed (STARTTLS): take the new pipes.</summary>
    public void RefreshTransport()
    {
        _input = _compressed?.Input ?? _connection.Input;
        _output = _compressed?.Output ?? _connection.Output;
        var utf8 = Writer.Utf8;
        Writer = new ImapResponseWriter(_output) { Utf8 = utf8 };
    }

    /// <summary>RFC 4978: from the next byte on, both directions are DEFLATE streams.</summary>
    public void StartCompression()
    {
        _compressed = new CompressedTransport(_connection.Input, _connection.Output);
        RefreshTransport();
    }

    /// <summary>Nothing may be buffered after a command that switches the transport.</summary>
    public bool HasBufferedInput()
    {
        if (_input.TryRead(out var pending))
        {
            var has = !pending.Buffer.IsEmpty;
            _input.AdvanceTo(pending.Buffer.Start);
            return has;
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "IMAP command {Command} failed")]
    private static partial void LogCommandFailed(ILogger logger, Exception exception, string command);
}

/// <summary>A token that fires after the timeout (on the session's TimeProvider) or with the session token.</summary>
internal sealed class AutologoutTimer : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    public AutologoutTimer(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        _timer = new CancellationTokenSource(timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(_timer.Token, cancellationToken);
    }

    public CancellationToken Token => _linked.Token;

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}

/// <summary>The session must end now (client gone, line too long, autologout); BYE already sent if due.</summary>
internal sealed class SessionEndedException : Exception;