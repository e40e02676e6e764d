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
    /// <summary>Builds and commits the DSN. Returns false when none is due (null sender, no recipients,
    /// or a local-domain sender without a mailbox).</summary>
    public async Task<bool> SendAsync(QueueEntryInfo entry, IReadOnlyList<DsnRecipient> recipients, string reportingMta, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (entry.Sender.Length == 0 || recipients.Count == 0)
        {
            return false;
        }

        // RFC 3461 §4.3: RET governs failure reports; delay and success reports carry headers only.
        var returnFull = entry.ReturnFullMessage && recipients.Any(r => r.Action == DsnAction.Failed);
        var report = new DsnReport(reportingMta, entry.Sender, entry.EnvelopeId, entry.CreatedAt, returnFull, recipients, now);

        var inbox = await FindLocalInboxAsync(entry.Sender, cancellationToken).ConfigureAwait(false);
        if (inbox == -1)
        {
            logger.LogWarning("DSN for queue entry {QueueId} dropped: local sender has no mailbox", entry.Id);
            return false;
        }

        await using var original = await store.Messages.OpenMessageAsync(entry.MessageId, cancellationToken).ConfigureAwait(false);
        var dsn = await DsnBuilder.BuildAsync(report, original, cancellationToken).ConfigureAwait(false);

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

                var request = inbox is long mailboxId
                    ? new DeliveryRequest(staged, index, "", [new LocalDelivery(mailboxId, MessageFlags.None, [], now)], [], null)
                    : new DeliveryRequest(staged, index, "", [], [new QueuedRecipient(entry.Sender, null, null)], null);
                await store.Messages.CommitAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }

        if (inbox is null)
        {
            signal.Notify();
        }

        logger.LogInformation("DSN for queue entry {QueueId} sent ({Count} recipients)", entry.Id, recipients.Count);
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