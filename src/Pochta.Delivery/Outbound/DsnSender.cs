using Microsoft.Extensions.Logging;

using MimeKit;

using Pochta.Core;
using Pochta.Storage;

namespace Pochta.Delivery.Outbound;

/// <summary>
/// Sends delivery status notifications from <c>&lt;&gt;</c> to a queue entry's envelope sender:
/// into the sender's INBOX when the sender is a local account, otherwise through the outbound
/// queue. Never for a message whose own sender is <c>&lt;&gt;</c> (RFC 5321 §4.5.5, RFC 3461 §6.2).
/// </summary>
public sealed class DsnSender(IMailStore store, IMessageIndexer indexer, IOutboundQueueSignal signal, ILogger<DsnSender> logger)
{
    /// <summary>Builds and commits the DSN for a queue entry. Returns false when none is due
    /// (null sender, no recipients, or a local-domain sender without a mailbox).</summary>
    public Task<bool> SendAsync(QueueEntryInfo entry, IReadOnlyList<DsnRecipient> recipients, string reportingMta, DateTimeOffset now, CancellationToken cancellationToken) =>
        SendAsync(
            new DsnOriginal(entry.Sender, entry.EnvelopeId, entry.ReturnFullMessage, entry.CreatedAt, ct => store.Messages.OpenMessageAsync(entry.MessageId, ct), entry.Id),
            recipients,
            reportingMta,
            now,
            cancellationToken);

    /// <summary>Builds and commits a DSN for any message, queued or not: e.g. a local delivery
    /// failure (over quota) of a message relayed in, which must bounce the same way (RFC 3461 §6.2).</summary>
    public async Task<bool> SendAsync(DsnOriginal original, IReadOnlyList<DsnRecipient> recipients, string reportingMta, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(original);
        if (original.Sender.Length == 0 || recipients.Count == 0)
        {
            return false;
        }

        // RFC 3461 §4.3: RET governs failure reports; delay and success reports carry headers only.
        var returnFull = original.ReturnFullMessage && recipients.Any(r => r.Action == DsnAction.Failed);
        var report = new DsnReport(reportingMta, original.Sender, original.EnvelopeId, original.ArrivalDate, returnFull, recipients, now);

        var inbox = await FindLocalInboxAsync(original.Sender, cancellationToken).ConfigureAwait(false);
        if (inbox == -1)
        {
            logger.LogWarning("DSN for {Origin} dropped: local sender has no mailbox", original.Description);
            return false;
        }

        await using var message = await original.OpenMessage(cancellationToken).ConfigureAwait(false);
        var dsn = await DsnBuilder.BuildAsync(report, message, cancellationToken).ConfigureAwait(false);

        var writer = store.Messages.CreateWriter();
        await using (writer.ConfigureAwait(false))
        {
            var format = FormatOptions.Default.Clone();
            format.NewLineFormat = NewLineFormat.Dos;
            await using (var stream = new MessageWriterStream(writer))
            {
                await dsn.WriteToAsync(format, stream, cancellationToken).ConfigureAwait(false);
            }

            var staged = await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            await using (staged.ConfigureAwait(false))
            {
                byte[] index;
                await using (var read = staged.OpenRead())
                {
                    index = await indexer.BuildIndexAsync(read, cancellationToken).ConfigureAwait(false);
                }

                // RFC 3461 §6.2 / RFC 5321 §4.5.5: the notice goes from the null reverse path, so
                // it is never answered by another notice.
                var request = inbox is long mailboxId
                    ? new DeliveryRequest(staged, index, "", [new LocalDelivery(mailboxId, MessageFlags.None, [], now)], [], null)
                    : new DeliveryRequest(staged, index, "", [], [new QueuedRecipient(original.Sender, null, null)], null);
                await store.Messages.CommitAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }

        if (inbox is null)
        {
            signal.Notify();
        }

        logger.LogInformation("DSN for {Origin} sent ({Count} recipients)", original.Description, recipients.Count);
        return true;
    }

    /// <summary>The INBOX id of a local sender; null for a remote sender; -1 for a local-domain
    /// address without an account.</summary>
    private async Task<long?> FindLocalInboxAsync(string sender, CancellationToken cancellationToken)
    {
        if (!EmailAddress.TryParse(sender, out var address) ||
            await store.Directory.FindDomainAsync(address.Domain, cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        var account = await store.Directory.FindAccountAsync(address.Key, cancellationToken).ConfigureAwait(false)
            ?? await store.Directory.FindAccountAsync(address.WithoutTag().Key, cancellationToken).ConfigureAwait(false);
        if (account is null)
        {
            return -1;
        }

        var inbox = await store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", cancellationToken).ConfigureAwait(false);
        return inbox?.Id ?? -1;
    }
}

/// <summary>The message a DSN reports on.</summary>
/// <param name="Sender">The envelope sender (empty for <c>&lt;&gt;</c>: no DSN).</param>
/// <param name="EnvelopeId">ENVID, decoded from xtext, or null.</param>
/// <param name="OpenMessage">Opens the original bytes (read once, for RET=FULL or the header).</param>
/// <param name="QueueId">For logs.</param>
public sealed record DsnOriginal(
    string Sender,
    string? EnvelopeId,
    bool ReturnFullMessage,
    DateTimeOffset ArrivalDate,
    Func<CancellationToken, Task<Stream>> OpenMessage,
    long? QueueId = null)
{
    internal string Description => QueueId is { } id ? "queue entry " + id.ToString(System.Globalization.CultureInfo.InvariantCulture) : "message from " + Sender;
}

/// <summary>A write-only stream over <see cref="IMessageWriter"/> (asynchronous writes only).</summary>
internal sealed class MessageWriterStream(IMessageWriter writer) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => writer.Length;

    public override long Position
    {
        get => writer.Length;
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Synchronous writes are not supported.");

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        writer.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        writer.WriteAsync(buffer, cancellationToken);
}