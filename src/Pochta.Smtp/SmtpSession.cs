using System.Buffers;
using System.IO.Pipelines;

using Microsoft.Extensions.Logging;

using Pochta.Core;
using Pochta.Delivery.Inbound;
using Pochta.Hosting;
using Pochta.Sasl;
using Pochta.Smtp.Protocol;

namespace Pochta.Smtp;

/// <summary>Session states. Which commands each allows is declared once, in <see cref="SmtpCommandTable"/>.</summary>
[Flags]
public enum SmtpState
{
    /// <summary>Greeted, no EHLO/HELO yet (also right after STARTTLS, RFC 3207 §4.2).</summary>
    Connected = 1,

    /// <summary>EHLO/HELO done, no transaction.</summary>
    Ready = 2,

    /// <summary>MAIL accepted, no recipient yet.</summary>
    Mail = 4,

    /// <summary>At least one recipient accepted.</summary>
    Rcpt = 8,

    /// <summary>BDAT chunks (not LAST) received (RFC 3030).</summary>
    Chunking = 16,

    Any = Connected | Ready | Mail | Rcpt | Chunking,
}

/// <summary>Thrown by reads when the idle timeout or the minimum data rate is exceeded.</summary>
internal sealed class SmtpTimeoutException(bool dataRate) : Exception("SMTP timeout")
{
    public bool DataRate { get; } = dataRate;
}

/// <summary>The MAIL transaction in progress.</summary>
internal sealed class SmtpTransaction(InboundTransaction inbound, SmtpMailCommand mail) : IAsyncDisposable
{
    public InboundTransaction Inbound { get; } = inbound;

    public SmtpMailCommand Mail { get; } = mail;

    public bool BodyStarted { get; set; }

    /// <summary>BDAT: octets received so far.</summary>
    public long ChunkedLength { get; set; }

    public bool Oversized { get; set; }

    public ValueTask DisposeAsync() => Inbound.DisposeAsync();
}

/// <summary>
/// One SMTP connection: the read loop, state, I/O helpers for handlers. Replies are buffered and
/// flushed only when no further complete command is buffered (RFC 2920 §3.2 PIPELINING) or a
/// handler waits for the client.
/// </summary>
public sealed class SmtpSession
{
    private const int BodyFlushThreshold = 64 * 1024;
    private SmtpCommandReader _reader;

    internal SmtpSession(MailConnection connection, SmtpServerContext context)
    {
        Connection = connection;
        Context = context;
        _reader = new SmtpCommandReader(context.Limits);
    }

    public MailConnection Connection { get; }

    internal SmtpServerContext Context { get; }

    public SmtpState State { get; internal set; } = SmtpState.Connected;

    internal string? ClientName { get; set; }

    internal bool Extended { get; set; }

    internal AuthenticatedUser? User { get; set; }

    internal int AuthFailures { get; set; }

    internal int Errors { get; private set; }

    internal SmtpTransaction? Transaction { get; set; }

    internal bool IsSubmission => Connection.Listener.Protocol is MailProtocol.Submission or MailProtocol.Submissions;

    internal string HostName => Context.Server.HostName;

    /// <summary>AUTH may be offered and used: only over TLS or a connection the host deems secure.</summary>
    internal bool AuthAllowed => Connection.IsSecure && User is null;

    internal bool MayRelay => User is not null || Context.IsTrusted(Connection.RemoteEndPoint?.Address);

    private PipeReader Input => Connection.Input;

    private PipeWriter Output => Connection.Output;

    internal void Reply(SmtpReply reply)
    {
        SmtpReplyWriter.Write(Output, reply);
        if (reply.Code >= 400)
        {
            Errors++;
        }
    }

    internal async ValueTask FlushAsync(CancellationToken cancellationToken) => await Output.FlushAsync(cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (Connection.OverConnectionLimit)
            {
                Reply(SmtpReplies.TooManyConnections(HostName));
                await FlushAsync(cancellationToken);
                return;
            }

            Reply(SmtpReplies.Greeting(HostName));
            await LoopAsync(cancellationToken);
        }
        catch (SmtpTimeoutException timeout)
        {
            Reply(timeout.DataRate ? SmtpReplies.TransferTooSlow : SmtpReplies.IdleTimeout);
            await TryFlushAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Server stopping (or client gone): RFC 5321 §3.8 — say 421 if anyone is listening.
            // Nothing uncommitted was acknowledged, so nothing is lost.
            try
            {
                Reply(SmtpReplies.ShuttingDown);
            }
            catch (InvalidOperationException)
            {
                // The output is already completed.
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await TryFlushAsync(grace.Token);
            throw;
        }
        finally
        {
            await ResetTransactionAsync();
        }
    }

    private async Task TryFlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The client is gone.
        }
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var needMore = true;
        while (true)
        {
            ReadResult read;
            if (needMore || !Input.TryRead(out read))
            {
                await FlushAsync(cancellationToken);
                read = await ReadAsync(Context.Options.IdleTimeout, dataRate: false, cancellationToken);
            }

            var buffer = read.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            var result = _reader.TryRead(ref reader);
            if (result.Status == SmtpReadStatus.NeedMoreData)
            {
                Input.AdvanceTo(reader.Position, buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }

                needMore = true;
                continue;
            }

            Input.AdvanceTo(reader.Position);
            needMore = false;
            if (!await SmtpCommandTable.DispatchAsync(this, result, cancellationToken))
            {
                await TryFlushAsync(cancellationToken);
                return;
            }

            if (Errors >= Context.Options.MaxErrors)
            {
                Reply(SmtpReplies.TooManyErrors);
                await TryFlushAsync(cancellationToken);
                return;
            }
        }
    }

    /// <summary>One read with a timeout on <see cref="Context"/>'s clock.</summary>
    private async ValueTask<ReadResult> ReadAsync(TimeSpan timeout, bool dataRate, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new SmtpTimeoutException(dataRate);
        }

        using var timer = new CancellationTokenSource(timeout, Context.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return await Input.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SmtpTimeoutException(dataRate);
        }
    }

    /// <summary>Tracks one DATA/BDAT transfer against the minimum data rate.</summary>
    internal sealed class TransferClock(SmtpSession session)
    {
        private readonly DateTimeOffset _start = session.Context.Time.GetUtcNow();

        public long Octets { get; set; }

        /// <summary>How long the next read may take: the idle timeout, or less when the transfer
        /// would otherwise fall below the minimum rate.</summary>
        public (TimeSpan Timeout, bool DataRate) NextTimeout()
        {
            var options = session.Context.Options;
            if (options.MinimumDataRate <= 0)
            {
                return (options.IdleTimeout, false);
            }

            var deadline = _start + options.DataRateGracePeriod + TimeSpan.FromSeconds((double)Octets / options.MinimumDataRate);
            var left = deadline - session.Context.Time.GetUtcNow();
            return left < options.IdleTimeout ? (left, true) : (options.IdleTimeout, false);
        }
    }

    private async ValueTask<ReadResult> ReadDataAsync(TransferClock clock, CancellationToken cancellationToken)
    {
        var (timeout, dataRate) = clock.NextTimeout();
        return await ReadAsync(timeout, dataRate, cancellationToken);
    }

    /// <summary>Reads one raw line (AUTH continuation). Null when the client disconnected;
    /// <paramref name="tooLong"/> when it exceeded <paramref name="maxLength"/> (then it was discarded).</summary>
    internal async ValueTask<(byte[]? Line, bool TooLong)> ReadLineAsync(int maxLength, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        var discarding = false;
        while (true)
        {
            var read = await ReadAsync(Context.Options.IdleTimeout, dataRate: false, cancellationToken);
            var buffer = read.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                (byte[]? Line, bool TooLong) result =
                    discarding || line.Length + 1 > maxLength ? (null, true)
                    : line.IsEmpty || line.Slice(line.Length - 1).FirstSpan[0] != '\r' ? ([], false)
                    : (line.Slice(0, line.Length - 1).ToArray(), false);
                Input.AdvanceTo(reader.Position);
                return result;
            }

            if (buffer.Length >= maxLength)
            {
                discarding = true;
                Input.AdvanceTo(buffer.End);
            }
            else
            {
                Input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (read.IsCompleted)
            {
                return (null, false);
            }
        }
    }

    /// <summary>Streams DATA content (RFC 5321 §4.1.1.4) into the transaction. Returns the
    /// decoder's verdict, or null when the client disconnected before the end marker.</summary>
    internal async ValueTask<(SmtpDataDefects Defects, bool Oversized)?> ReceiveDataAsync(SmtpTransaction transaction, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        var options = Context.Options;
        var decoder = new SmtpDataDecoder(options.MaxTextLineLength);
        var clock = new TransferClock(this);
        var pending = new ArrayBufferWriter<byte>(BodyFlushThreshold);
        var rejectMask = SmtpDataDefects.BareLineFeed | SmtpDataDefects.BareCarriageReturn |
            (options.RejectLongLines ? SmtpDataDefects.LineTooLong : SmtpDataDefects.None);
        while (true)
        {
            var read = await ReadDataAsync(clock, cancellationToken);
            var reader = new SequenceReader<byte>(read.Buffer);
            var keep = !transaction.Oversized && (decoder.Defects & rejectMask) == 0;
            var status = decoder.Decode(ref reader, keep ? pending : null);
            clock.Octets += reader.Consumed;
            Input.AdvanceTo(reader.Position);
            if (decoder.DecodedLength > options.MaxMessageSize)
            {
                transaction.Oversized = true;
            }

            keep = !transaction.Oversized && (decoder.Defects & rejectMask) == 0;
            if (keep && (pending.WrittenCount >= BodyFlushThreshold || status == SmtpDataStatus.Completed))
            {
                await transaction.Inbound.WriteAsync(pending.WrittenMemory, cancellationToken);
            }

            if (!keep || pending.WrittenCount >= BodyFlushThreshold || status == SmtpDataStatus.Completed)
            {
                pending.ResetWrittenCount();
            }

            if (status == SmtpDataStatus.Completed)
            {
                return (decoder.Defects & rejectMask, transaction.Oversized);
            }

            if (read.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads exactly <paramref name="size"/> octets of a BDAT chunk (RFC 3030 §2), writing
    /// them to <paramref name="transaction"/> unless null or oversized. False when the client disconnected.</summary>
    internal async ValueTask<bool> ReceiveChunkAsync(long size, SmtpTransaction? transaction, CancellationToken cancellationToken)
    {
        var clock = new TransferClock(this);
        var remaining = size;
        while (remaining > 0)
        {
            var read = await ReadDataAsync(clock, cancellationToken);
            var take = Math.Min(remaining, read.Buffer.Length);
            var slice = read.Buffer.Slice(0, take);
            if (transaction is not null)
            {
                transaction.ChunkedLength += take;
                if (transaction.ChunkedLength > Context.Options.MaxMessageSize)
                {
                    transaction.Oversized = true;
                }

                if (!transaction.Oversized)
                {
                    foreach (var segment in slice)
                    {
                        await transaction.Inbound.WriteAsync(segment, cancellationToken);
                    }
                }
            }

            Input.AdvanceTo(slice.End);
            remaining -= take;
            clock.Octets += take;
            if (remaining > 0 && read.IsCompleted)
            {
                return false;
            }
        }

        return true;
    }

    internal async ValueTask ResetTransactionAsync()
    {
        if (Transaction is { } t)
        {
            Transaction = null;
            await t.DisposeAsync();
        }

        if (State is SmtpState.Mail or SmtpState.Rcpt or SmtpState.Chunking)
        {
            State = SmtpState.Ready;
        }
    }

    /// <summary>After STARTTLS (RFC 3207 §4.2): the server forgets everything learned from the client.</summary>
    internal async ValueTask ResetAfterTlsAsync()
    {
        await ResetTransactionAsync();
        State = SmtpState.Connected;
        ClientName = null;
        Extended = false;
        _reader = new SmtpCommandReader(Context.Limits);
    }

    /// <summary>The Received <c>with</c> keyword (RFC 3848).</summary>
    internal string TraceProtocol => !Extended ? "SMTP" : "ESMTP" + (Connection.IsTls ? "S" : "") + (User is not null ? "A" : "");

    internal TraceInfo Trace() => new(ClientName ?? "unknown", Connection.RemoteEndPoint?.Address, TraceProtocol, Connection.Tls, HostName);

    internal void LogCommitFailed(Exception e) => Context.Logger.LogError(e, "SMTP commit failed on {Listener} ({Connection})", Connection.Listener.Name, Connection.Id);
}