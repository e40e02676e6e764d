using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using Pochta.Core;
using Pochta.Delivery.Outbound;
using Pochta.Hosting;
using Pochta.Storage;

namespace Pochta.Delivery.Inbound;

/// <summary>The envelope of one SMTP transaction.</summary>
/// <param name="Sender">The reverse path; null for the null path <c>&lt;&gt;</c>.</param>
/// <param name="EnvelopeId">RFC 3461 ENVID (decoded), or null.</param>
/// <param name="ReturnFull">RFC 3461 RET=FULL.</param>
/// <param name="DeclaredSize">RFC 1870 SIZE= of MAIL, or null; checked against quotas at RCPT.</param>
public sealed record InboundEnvelope(EmailAddress? Sender, string? EnvelopeId, bool ReturnFull, long? DeclaredSize = null);

/// <summary>A local account that could not take its copy at commit because of its quota.</summary>
/// <param name="Address">The account's address (the DSN's Final-Recipient).</param>
/// <param name="Limit">The limit that would have been passed (octets or messages).</param>
public sealed record QuotaFailure(string Address, long AccountId, QuotaResource Resource, long Limit);

/// <summary>Facts for the Received trace header (RFC 5321 §4.4).</summary>
/// <param name="ClientName">The EHLO/HELO argument (already restricted to safe characters).</param>
/// <param name="Protocol">The <c>with</c> keyword: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (RFC 3848).</param>
public sealed record TraceInfo(string ClientName, IPAddress? ClientAddress, string Protocol, TlsDetails? Tls, string ServerName);

public enum RecipientVerdict
{
    Accepted,

    /// <summary>Already in this transaction (RFC 5321 §3.3 allows it; delivered once).</summary>
    Duplicate,

    /// <summary>550 5.1.1: a local domain without such a user.</summary>
    UnknownUser,

    /// <summary>550 5.2.1: the mailbox is disabled.</summary>
    Disabled,

    /// <summary>550 5.4.6: alias expansion looped or yielded nothing.</summary>
    AliasLoop,

    /// <summary>554 5.7.1: a remote domain and the client may not relay.</summary>
    RelayDenied,

    /// <summary>451 4.3.0: the mailbox could not be looked up now.</summary>
    TemporaryFailure,

    /// <summary>452 4.2.2: the mailbox is full now, or the declared SIZE does not fit in what is
    /// left (RFC 3463 X.2.2; RFC 1870 §6.1: 452 for temporarily insufficient storage).</summary>
    MailboxFull,

    /// <summary>552 5.2.2: the declared SIZE exceeds the mailbox's whole quota, so it can never
    /// fit (RFC 1870 §6.1: 552 for a fixed limit).</summary>
    MessageExceedsQuota,
}

/// <summary>
/// SMTP's delivery target (DESIGN §4.5): <see cref="Begin"/> an envelope, add recipients, write the
/// body, commit. One blob serves every recipient; each distinct local INBOX gets one copy and all
/// remote recipients one queue entry, in one store transaction.
/// </summary>
/// <param name="dsnSender">Bounces local quota failures after the commit; without it (tests)
/// they are only logged.</param>
public sealed class InboundDelivery(
    IMailStore store,
    IMessageIndexer indexer,
    RecipientResolver resolver,
    IOutboundQueueSignal queueSignal,
    TimeProvider time,
    DsnSender? dsnSender = null,
    ILogger<InboundDelivery>? logger = null)
{
    public RecipientResolver Resolver => resolver;

    public InboundTransaction Begin(InboundEnvelope envelope) => new(this, envelope);

    internal IMailStore Store => store;

    internal IMessageIndexer Indexer => indexer;

    internal IOutboundQueueSignal QueueSignal => queueSignal;

    internal TimeProvider Time => time;

    internal DsnSender? DsnSender => dsnSender;

    internal ILogger Logger => logger ?? (ILogger)NullLogger.Instance;
}

/// <summary>A local account of the transaction and the first RCPT that reached it (its NOTIFY
/// and ORCPT govern the account's bounce, RFC 3461 §4).</summary>
internal sealed record LocalRecipient(long AccountId, string Address, long InboxId, string? Notify, string? OriginalRecipient);

/// <summary>One transaction. Not thread-safe. Disposing without <see cref="CommitAsync"/> discards
/// everything written (nothing becomes visible).</summary>
public sealed class InboundTransaction : IAsyncDisposable
{
    private readonly InboundDelivery _owner;
    private readonly Dictionary<long, LocalRecipient> _localByAccount = [];
    private readonly List<QuotaFailure> _quotaFailures = [];
    private readonly List<QueuedRecipient> _remote = [];
    private readonly HashSet<string> _recipients = new(StringComparer.Ordinal);
    private readonly List<string> _forwardPaths = [];
    private IMessageWriter? _writer;
    private string _reportingMta = "localhost";
    private bool _committed;

    internal InboundTransaction(InboundDelivery owner, InboundEnvelope envelope)
    {
        _owner = owner;
        Envelope = envelope;
        Id = CreateId();
    }

    public InboundEnvelope Envelope { get; }

    /// <summary>Queue id for logs and the Received header.</summary>
    public string Id { get; }

    /// <summary>Accepted RCPT commands (duplicates not counted).</summary>
    public int RecipientCount => _forwardPaths.Count;

    public bool HasLocalRecipients => _localByAccount.Count > 0;

    /// <summary>After <see cref="CommitAsync"/>: the local accounts that did not get their copy
    /// because of their quota (bounced to the sender), or, when the commit threw
    /// <see cref="QuotaExceededException"/>, every local account (nothing was stored).</summary>
    public IReadOnlyList<QuotaFailure> QuotaFailures => _quotaFailures;

    public long BodyLength => _writer?.Length ?? 0;

    /// <summary>Resolves and records one recipient.</summary>
    /// <param name="mayRelay">The client may send to remote domains (authenticated or trusted network).</param>
    public async Task<RecipientVerdict> AddRecipientAsync(EmailAddress recipient, string? notify, string? originalRecipient, bool mayRelay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (_writer is not null)
        {
            throw new InvalidOperationException("Recipients are added before the body.");
        }

        if (_recipients.Contains(recipient.Key))
        {
            return RecipientVerdict.Duplicate;
        }

        RecipientResolution resolution;
        try
        {
            resolution = await _owner.Resolver.ResolveAsync(recipient, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return RecipientVerdict.TemporaryFailure;
        }

        switch (resolution.Kind)
        {
            case RecipientKind.Unknown:
                return RecipientVerdict.UnknownUser;
            case RecipientKind.Disabled:
                return RecipientVerdict.Disabled;
            case RecipientKind.AliasLoop:
                return RecipientVerdict.AliasLoop;
            case RecipientKind.Remote when !mayRelay:
                return RecipientVerdict.RelayDenied;
        }

        var inboxes = new List<LocalRecipient>();
        foreach (var account in resolution.Accounts)
        {
            if (_localByAccount.ContainsKey(account.Id))
            {
                continue;
            }

            var inbox = await _owner.Store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", cancellationToken);
            if (inbox is null)
            {
                return RecipientVerdict.TemporaryFailure;
            }

            inboxes.Add(new LocalRecipient(account.Id, account.Address, inbox.Id, notify, originalRecipient));
        }

        // Quota at RCPT time: refused only when every local account the recipient reaches is new to
        // this transaction and cannot take the message, and it has no remote targets. An alias whose
        // other members can take it is accepted; its full members bounce after the commit.
        if (inboxes.Count > 0 && inboxes.Count == resolution.Accounts.Count && resolution.RemoteAddresses.Count == 0)
        {
            RecipientVerdict? quota;
            try
            {
                quota = await CheckQuotaAsync(inboxes, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return RecipientVerdict.TemporaryFailure;
            }

            if (quota is { } refused)
            {
                return refused;
            }
        }

        foreach (var local in inboxes)
        {
            _localByAccount[local.AccountId] = local;
        }

        // RFC 3461 §4.1/§4.2: NOTIFY and ORCPT travel with every remote copy this recipient
        // produces; when an alias produced it and no ORCPT was given, ORCPT records the address
        // the sender used (a relay may add it, §4.2).
        foreach (var remote in resolution.RemoteAddresses)
        {
            if (!_remote.Exists(r => r.Address == remote))
            {
                _remote.Add(new QueuedRecipient(remote, notify, originalRecipient ?? (resolution.Kind == RecipientKind.Local ? "rfc822;" + XTextEncode(recipient.ToString()) : null)));
            }
        }

        _recipients.Add(recipient.Key);
        _forwardPaths.Add(recipient.ToString());
        return RecipientVerdict.Accepted;
    }

    /// <summary>Null when at least one account can take a message of the declared size (or of
    /// unknown size, when it is not full); otherwise 552 5.2.2 when the declared size exceeds
    /// every account's whole limit, else 452 4.2.2.</summary>
    private async Task<RecipientVerdict?> CheckQuotaAsync(List<LocalRecipient> accounts, CancellationToken cancellationToken)
    {
        var declared = Envelope.DeclaredSize ?? 0;
        var permanent = true;
        foreach (var local in accounts)
        {
            var usage = await _owner.Store.Directory.GetQuotaUsageAsync(local.AccountId, cancellationToken);
            if (usage is null || !usage.HasLimit || (!usage.IsFull && usage.Fits(declared)))
            {
                return null;
            }

            permanent &= usage.LimitBytes > 0 && declared > usage.LimitBytes;
        }

        return permanent ? RecipientVerdict.MessageExceedsQuota : RecipientVerdict.MailboxFull;
    }

    /// <summary>Starts the body: writes <c>Return-Path</c> (when any copy is delivered locally: the
    /// reverse path is the same for every recipient, so one blob serves them all) and the
    /// <c>Received</c> trace header, then the caller streams the message.</summary>
    public async ValueTask StartBodyAsync(TraceInfo trace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trace);
        if (_writer is not null)
        {
            throw new InvalidOperationException("The body was already started.");
        }

        if (RecipientCount == 0)
        {
            throw new InvalidOperationException("No recipient was accepted.");
        }

        _reportingMta = trace.ServerName;
        _writer = _owner.Store.Messages.CreateWriter();
        var header = new StringBuilder(512);
        if (HasLocalRecipients)
        {
            // RFC 5321 §4.4: the final delivery adds Return-Path with the MAIL FROM path.
            header.Append("Return-Path: <").Append(Envelope.Sender?.ToString() ?? "").Append(">\r\n");
        }

        AppendReceived(header, trace, _owner.Time.GetUtcNow());
        await _writer.WriteAsync(Encoding.UTF8.GetBytes(header.ToString()), cancellationToken);
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        (_writer ?? throw new InvalidOperationException("StartBodyAsync first.")).WriteAsync(data, cancellationToken);

    /// <summary>Finishes the body, indexes it and commits blob, mailbox copies and queue entry in one
    /// store transaction. When this completes the message is durable; then the queue is woken.
    /// A local account whose quota the message would pass is left out (the store refuses the whole
    /// transaction, naming the account; the commit is repeated without it, so a racing delivery
    /// cannot make it pass) and bounced to the sender (<see cref="QuotaFailures"/>). When no
    /// recipient at all is left, nothing is stored and <see cref="QuotaExceededException"/> is
    /// rethrown for the session to refuse the message.</summary>
    public async Task<DeliveryResult> CommitAsync(CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new InvalidOperationException("StartBodyAsync first.");
        if (_committed)
        {
            throw new InvalidOperationException("Already committed.");
        }

        var staged = await writer.CompleteAsync(cancellationToken);
        await using (staged)
        {
            // The index serves mailbox copies only (IMAP/JMAP); a message that only goes into
            // the queue is never read through it (each commit has its own message row), so it
            // is not parsed for one (relaying: the parse was a tenth of the CPU per message).
            byte[] index = [];
            if (_localByAccount.Count > 0)
            {
                await using var read = staged.OpenRead();
                index = await _owner.Indexer.BuildIndexAsync(read, cancellationToken);
            }

            var now = _owner.Time.GetUtcNow();
            var pending = _localByAccount.Values.ToList();
            var dsn = Envelope.EnvelopeId is null && !Envelope.ReturnFull ? null : new DsnEnvelope(Envelope.EnvelopeId, Envelope.ReturnFull);
            DeliveryResult result;
            while (true)
            {
                var local = pending.Select(l => l.InboxId).Distinct().Select(id => new LocalDelivery(id, MessageFlags.None, [], now)).ToList();
                var request = new DeliveryRequest(staged, index, Envelope.Sender?.ToString() ?? "", local, [.. _remote], dsn);
                try
                {
                    result = await _owner.Store.Messages.CommitAsync(request, cancellationToken);
                    break;
                }
                catch (QuotaExceededException e) when (pending.Find(l => l.AccountId == e.AccountId) is { } full)
                {
                    pending.Remove(full);
                    _quotaFailures.Add(new QuotaFailure(full.Address, full.AccountId, e.Resource, e.Limit));
                    if (pending.Count == 0 && _remote.Count == 0)
                    {
                        throw;
                    }
                }
            }

            _committed = true;
            if (result.QueueId is not null)
            {
                _owner.QueueSignal.Notify();
            }

            if (_quotaFailures.Count > 0)
            {
                await BounceQuotaFailuresAsync(staged, now);
            }

            return result;
        }
    }

    /// <summary>
    /// RFC 3461 §6.2 / RFC 3464: the message was accepted (one 250 for the whole transaction,
    /// RFC 5321 §4.2.5) but some local copies could not be stored, so the sender gets a failure
    /// DSN for those recipients, Status 5.2.2 (RFC 3463 "mailbox full"; permanent because after
    /// the 250 there is no local retry queue to hold the copy), honouring each recipient's NOTIFY
    /// (absent = FAILURE), its ORCPT, and the envelope's ENVID and RET; never for the null reverse
    /// path. Sent from <c>&lt;&gt;</c> through <see cref="DsnSender"/> (sender's INBOX when local,
    /// else the queue). It is committed before the 250 is written: a crash in between makes the
    /// client repeat the transaction (a duplicate copy for the others), never loses the notice.
    /// Its own failure is logged and does not change the reply.
    /// </summary>
    private async Task BounceQuotaFailuresAsync(StagedMessage staged, DateTimeOffset now)
    {
        if (Envelope.Sender is not { } sender)
        {
            return;
        }

        var recipients = new List<DsnRecipient>();
        foreach (var failure in _quotaFailures)
        {
            var local = _localByAccount[failure.AccountId];
            if (!Notify.Parse(local.Notify, delayWhenAbsent: false).HasFlag(NotifyFlags.Failure))
            {
                continue;
            }

            var diagnostic = failure.Resource == QuotaResource.Storage
                ? "552 5.2.2 Mailbox full: the message would exceed the mailbox quota"
                : "552 5.2.2 Mailbox full: the message count quota is reached";
            recipients.Add(new DsnRecipient(failure.Address, local.OriginalRecipient, DsnAction.Failed, "5.2.2", null, diagnostic, now, null));
        }

        if (recipients.Count == 0)
        {
            return;
        }

        if (_owner.DsnSender is not { } dsnSender)
        {
            _owner.Logger.LogWarning("Transaction {Id}: {Count} local recipients over quota, no DSN sender configured", Id, recipients.Count);
            return;
        }

        try
        {
            var original = new DsnOriginal(sender.ToString(), Envelope.EnvelopeId, Envelope.ReturnFull, now, _ => Task.FromResult(staged.OpenRead()));

            // CancellationToken.None: the copies for the others are committed; the notice must not
            // be lost to a client that disconnects now (the work is bounded: one small commit).
            await dsnSender.SendAsync(original, recipients, _reportingMta, now, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _owner.Logger.LogError(e, "Transaction {Id}: the quota bounce could not be sent", Id);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
            _writer = null;
        }
    }

    private void AppendReceived(StringBuilder sb, TraceInfo trace, DateTimeOffset now)
    {
        // RFC 5321 §4.4 Stamp: from-domain by-domain [with] [id] [for] ";" date-time.
        sb.Append("Received: from ").Append(trace.ClientName);
        if (trace.ClientAddress is { } ip)
        {
            var literal = ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
            sb.Append(" ([").Append(literal.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6:" : "").Append(literal).Append("])");
        }

        sb.Append("\r\n\tby ").Append(trace.ServerName).Append(" (Pochta) with ").Append(trace.Protocol);
        if (trace.Tls is { } tls)
        {
            sb.Append(" (").Append(tls.ProtocolName).Append(' ').Append(tls.CipherSuite).Append(')');
        }

        sb.Append("\r\n\tid ").Append(Id);

        // Only a single recipient is named: more would disclose Bcc recipients to each other.
        if (_forwardPaths.Count == 1)
        {
            sb.Append("\r\n\tfor <").Append(_forwardPaths[0]).Append('>');
        }

        sb.Append("; ").Append(now.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture)).Append("\r\n");
    }

    private static string CreateId()
    {
        Span<byte> bytes = stackalloc byte[10];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    private static string XTextEncode(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= 33 and <= 126 && b != '+' && b != '=')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('+').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }
}