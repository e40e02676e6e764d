using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

using Pochta.Core;
using Pochta.Delivery.Outbound;
using Pochta.Hosting;
using Pochta.Storage;

namespace Pochta.Delivery.Inbound;

/// <summary>The envelope of one SMTP transaction.</summary>
/// <param name="Sender">The reverse path; null for the null path <c>&lt;&gt;</c>.</param>
/// <param name="EnvelopeId">RFC 3461 ENVID (decoded), or null.</param>
/// <param name="ReturnFull">RFC 3461 RET=FULL.</param>
public sealed record InboundEnvelope(EmailAddress? Sender, string? EnvelopeId, bool ReturnFull);

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
}

/// <summary>
/// SMTP's delivery target (DESIGN §4.5): <see cref="Begin"/> an envelope, add recipients, write the
/// body, commit. One blob serves every recipient; each distinct local INBOX gets one copy and all
/// remote recipients one queue entry, in one store transaction.
/// </summary>
public sealed class InboundDelivery(
    IMailStore store,
    IMessageIndexer indexer,
    RecipientResolver resolver,
    IOutboundQueueSignal queueSignal,
    TimeProvider time)
{
    public RecipientResolver Resolver => resolver;

    public InboundTransaction Begin(InboundEnvelope envelope) => new(this, envelope);

    internal IMailStore Store => store;

    internal IMessageIndexer Indexer => indexer;

    internal IOutboundQueueSignal QueueSignal => queueSignal;

    internal TimeProvider Time => time;
}

/// <summary>One transaction. Not thread-safe. Disposing without <see cref="CommitAsync"/> discards
/// everything written (nothing becomes visible).</summary>
public sealed class InboundTransaction : IAsyncDisposable
{
    private readonly InboundDelivery _owner;
    private readonly Dictionary<long, long> _inboxByAccount = [];
    private readonly List<QueuedRecipient> _remote = [];
    private readonly HashSet<string> _recipients = new(StringComparer.Ordinal);
    private readonly List<string> _forwardPaths = [];
    private IMessageWriter? _writer;
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

    public bool HasLocalRecipients => _inboxByAccount.Count > 0;

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

        var inboxes = new List<(long Account, long Inbox)>();
        foreach (var account in resolution.Accounts)
        {
            if (_inboxByAccount.ContainsKey(account.Id))
            {
                continue;
            }

            var inbox = await _owner.Store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", cancellationToken);
            if (inbox is null)
            {
                return RecipientVerdict.TemporaryFailure;
            }

            inboxes.Add((account.Id, inbox.Id));
        }

        foreach (var (account, inbox) in inboxes)
        {
            _inboxByAccount[account] = inbox;
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
    /// store transaction. When this completes the message is durable; then the queue is woken.</summary>
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
            byte[] index;
            await using (var read = staged.OpenRead())
            {
                index = await _owner.Indexer.BuildIndexAsync(read, cancellationToken);
            }

            var now = _owner.Time.GetUtcNow();
            var local = _inboxByAccount.Values.Distinct().Select(id => new LocalDelivery(id, MessageFlags.None, [], now)).ToList();
            var dsn = Envelope.EnvelopeId is null && !Envelope.ReturnFull ? null : new DsnEnvelope(Envelope.EnvelopeId, Envelope.ReturnFull);
            var request = new DeliveryRequest(staged, index, Envelope.Sender?.ToString() ?? "", local, [.. _remote], dsn);
            var result = await _owner.Store.Messages.CommitAsync(request, cancellationToken);
            _committed = true;
            if (result.QueueId is not null)
            {
                _owner.QueueSignal.Notify();
            }

            return result;
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