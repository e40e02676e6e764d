using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Pochta.Hosting;
using Pochta.Storage;

namespace Pochta.Delivery.Outbound;

/// <summary>Some due recipients of one queue entry, all bound for the same destination.</summary>
public sealed record OutboundWorkItem(QueueEntryInfo Entry, IReadOnlyList<QueueRecipientInfo> Recipients);

public enum AttemptResult
{
    Delivered,
    Temporary,
    Permanent,
}

/// <param name="Reply">The remote reply, or a synthesised one in the same shape.</param>
public sealed record RecipientAttempt(QueueRecipientInfo Recipient, AttemptResult Result, string Reply, string? RemoteHost, bool RemoteOffersDsn);

/// <summary>Where one delivery run (one connection's worth of work for one destination) takes
/// its messages from: the queue runner hands out more while the destination has some waiting.</summary>
public interface IOutboundWorkSource
{
    /// <summary>The next message for this run, or null when there is none (the run ends).</summary>
    OutboundWorkItem? TryTake();

    /// <summary>Called once the item's outcomes are committed (or could not be: then its
    /// recipients are still pending in the store and become due again).</summary>
    void Completed(OutboundWorkItem item, IReadOnlyList<RecipientAttempt> attempts);
}

/// <summary>
/// Delivers work for one destination: resolves the route, then sends each message in turn over
/// one reused connection (all its recipients for that destination in one transaction), moving
/// to the next MX host when a host cannot be reached. The connection outlives the run for
/// <see cref="OutboundOptions.ConnectionCacheTime"/>, for the destination's next run. Each
/// message's outcomes are recorded (DSNs committed first) while the following messages are sent,
/// at most <see cref="MaxUnrecorded"/> messages behind; a run ends only after its last commit.
/// The commits of all runs are coalesced (<see cref="OutcomeWriter"/>).
///
/// Crash safety: the only window for a duplicate delivery is between the remote server's 250
/// after DATA and our commit of the outcome (RecordOutcomesAsync). A crash there leaves the
/// recipient pending, so it is sent again after restart (at most <see cref="MaxUnrecorded"/>
/// messages per connection are in that window at once). Outcomes are recorded with
/// <see cref="CancellationToken.None"/> so that an orderly shutdown never widens that window.
/// DSNs are committed before the outcomes: a crash between the two repeats a notice rather
/// than losing it.
/// </summary>
public sealed class OutboundDelivery(
    IMailStore store,
    OutboundRouter router,
    IOutboundDnsResolver dns,
    DsnSender dsnSender,
    DkimMessageSigner signer,
    IOptions<OutboundOptions> options,
    IOptions<ServerOptions> serverOptions,
    TimeProvider timeProvider,
    ILogger<OutboundDelivery> logger) : IAsyncDisposable
{
    private readonly OutboundOptions _options = options.Value;
    private readonly RetryPolicy _retry = new(options.Value);
    private readonly OutboundConnectionCache _connections = new(options.Value.ConnectionCacheTime, timeProvider);
    private readonly OutcomeWriter _outcomes = new(store, options.Value.OutcomeCommitDelay);

    /// <summary>Messages of one run whose outcome commit may still be outstanding while the next is sent.</summary>
    internal const int MaxUnrecorded = 8;

    internal string HostName => _options.HostName ?? serverOptions.Value.HostName;

    /// <summary>Delivers these items (a run with a fixed list of work).</summary>
    public Task DeliverAsync(Destination destination, IReadOnlyList<OutboundWorkItem> items, CancellationToken cancellationToken) =>
        DeliverAsync(destination, new ListSource(items), cancellationToken);

    public async Task DeliverAsync(Destination destination, IOutboundWorkSource source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.TryTake() is not { } first)
        {
            return;
        }

        RouteResolution route;
        try
        {
            route = await router.ResolveAsync(destination, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // An unexpected resolver error must not leave the recipients due at once (a hot loop).
            logger.LogWarning(ex, "Route lookup for {Destination} failed", destination.Key);
            route = new RouteResolution(MxLookupStatus.TemporaryFailure, [], ex.Message);
        }

        if (route.Status != MxLookupStatus.Found || route.Hosts.Count == 0)
        {
            var (result, reply) = route.Status switch
            {
                // RFC 7505 §4.3: a null MX means the domain accepts no mail.
                MxLookupStatus.NullMx => (AttemptResult.Permanent, "556 5.1.10 Recipient address has null MX"),
                MxLookupStatus.NoSuchDomain => (AttemptResult.Permanent, "550 5.1.2 Recipient domain not found"),
                _ => (AttemptResult.Temporary, "451 4.4.3 Temporary DNS failure looking up the recipient domain"),
            };
            logger.LogInformation("Route for {Destination}: {Status}", destination.Key, route.Status);
            for (var item = first; item is not null; item = source.TryTake())
            {
                await FinishAsync(item, item.Recipients.Select(r => new RecipientAttempt(r, result, reply, null, false)).ToList(), source).ConfigureAwait(false);
            }

            return;
        }

        var session = new DestinationSession(route.Hosts, destination, dns, store, signer, _options, HostName, timeProvider, logger, _connections.Take(destination.Key));
        await using (session.ConfigureAwait(false))
        {
            // The outcomes of the last messages are committed (fsyncs, coalesced with other
            // runs') while the next ones are sent; all of them before the run ends. The
            // duplicate window stays the one documented above (remote 250 → our commit).
            var finishing = new Queue<Task>();
            try
            {
                for (var item = first; item is not null; item = source.TryTake())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    IReadOnlyList<RecipientAttempt> attempts;
                    try
                    {
                        attempts = await session.SendAsync(item, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        // A local fault with this message (its blob missing, unparsable): the
                        // recipients are deferred on the normal schedule rather than left due (which
                        // would retry them in a tight loop), and the other messages still go.
                        logger.LogError(ex, "Queue {QueueId}: local error while sending", item.Entry.Id);
                        attempts = item.Recipients.Select(r => new RecipientAttempt(r, AttemptResult.Temporary, "451 4.3.0 Local error while sending the message", null, false)).ToList();
                    }

                    finishing.Enqueue(FinishAsync(item, attempts, source));
                    while (finishing.Count >= MaxUnrecorded || (finishing.Count > 0 && finishing.Peek().IsCompleted))
                    {
                        await finishing.Dequeue().ConfigureAwait(false);
                    }
                }

                // Kept open for the next run to this destination (or closed) at once, before the
                // last commits: they do not need it, and a run starting meanwhile takes it
                // instead of connecting anew.
                var idle = session.Detach();
                if (idle is null)
                {
                    await session.QuitAsync(cancellationToken).ConfigureAwait(false);
                }
                else if (!_connections.Return(destination.Key, idle))
                {
                    await OutboundConnectionCache.CloseAsync(idle.Client).ConfigureAwait(false);
                }
            }
            finally
            {
                // Every outstanding commit is awaited, even after a failed one.
                Exception? failed = null;
                while (finishing.TryDequeue(out var task))
                {
                    try
                    {
                        await task.ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        failed ??= ex;
                    }
                }

                if (failed is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
                }
            }
        }
    }

    /// <summary>Closes the connections kept open for later runs.</summary>
    public ValueTask DisposeAsync() => _connections.DisposeAsync();

    /// <summary>Turns attempt results into stored outcomes (retry time, expiry) and DSNs.</summary>
    public Task FinishAsync(OutboundWorkItem item, IReadOnlyList<RecipientAttempt> attempts) => FinishAsync(item, attempts, null);

    private async Task FinishAsync(OutboundWorkItem item, IReadOnlyList<RecipientAttempt> attempts, IOutboundWorkSource? source)
    {
        try
        {
            await RecordAsync(item, attempts).ConfigureAwait(false);
        }
        finally
        {
            source?.Completed(item, attempts);
        }
    }

    private async Task RecordAsync(OutboundWorkItem item, IReadOnlyList<RecipientAttempt> attempts)
    {
        var now = timeProvider.GetUtcNow();
        var entry = item.Entry;
        var outcomes = new List<RecipientOutcome>(attempts.Count);
        var notices = new List<DsnRecipient>();

        foreach (var a in attempts)
        {
            var r = a.Recipient;
            var notify = Notify.Parse(r.Notify, _options.DelayNotificationWhenNotifyAbsent);
            switch (a.Result)
            {
                case AttemptResult.Delivered:
                    outcomes.Add(new RecipientOutcome(r.Id, RecipientState.Delivered, a.Reply, a.RemoteHost, null, r.DelayNotified));

                    // RFC 3461 §5.2.2: a server with DSN takes over NOTIFY=SUCCESS; otherwise we report "relayed".
                    if (notify.HasFlag(NotifyFlags.Success) && !a.RemoteOffersDsn)
                    {
                        notices.Add(Notice(r, DsnAction.Relayed, "2.0.0", a, now, null));
                    }

                    break;

                case AttemptResult.Permanent:
                    outcomes.Add(new RecipientOutcome(r.Id, RecipientState.Failed, a.Reply, a.RemoteHost, null, r.DelayNotified));
                    if (notify.HasFlag(NotifyFlags.Failure))
                    {
                        notices.Add(Notice(r, DsnAction.Failed, SmtpReplyText.GetStatus(a.Reply, "5.0.0"), a, now, null));
                    }

                    break;

                default:
                    var next = _retry.NextAttempt(entry.CreatedAt, r.Attempts + 1, now);
                    if (next is null)
                    {
                        // Expired (RFC 3463 X.4.7 when the last reply carries no better status).
                        outcomes.Add(new RecipientOutcome(r.Id, RecipientState.Failed, a.Reply, a.RemoteHost, null, r.DelayNotified));
                        if (notify.HasFlag(NotifyFlags.Failure))
                        {
                            notices.Add(Notice(r, DsnAction.Failed, SmtpReplyText.GetStatus(a.Reply, "4.4.7"), a, now, null));
                        }

                        break;
                    }

                    var delayNotified = r.DelayNotified;
                    if (!delayNotified && _retry.DelayNoticeDue(entry.CreatedAt, now))
                    {
                        delayNotified = true;
                        if (notify.HasFlag(NotifyFlags.Delay))
                        {
                            notices.Add(Notice(r, DsnAction.Delayed, SmtpReplyText.GetStatus(a.Reply, "4.0.0"), a, now, _retry.ExpiresAt(entry.CreatedAt)));
                        }
                    }

                    outcomes.Add(new RecipientOutcome(r.Id, RecipientState.Deferred, a.Reply, a.RemoteHost, next, delayNotified));
                    break;
            }
        }

        if (notices.Count > 0)
        {
            try
            {
                await dsnSender.SendAsync(entry, notices, HostName, now, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Whatever went wrong with the notice, the outcomes below must still be recorded:
                // otherwise a delivered recipient stays pending and is sent again.
                logger.LogError(ex, "Could not send DSN for queue entry {QueueId}", entry.Id);
            }
        }

        if (!await _outcomes.RecordAsync(entry.Id, outcomes).ConfigureAwait(false))
        {
            // Deleted meanwhile (`pochta queue delete`): nothing is left to record.
            logger.LogWarning("Queue {QueueId} was removed while it was being delivered", entry.Id);
            return;
        }

        foreach (var a in attempts)
        {
            logger.LogInformation("Queue {QueueId} to {Recipient}: {Result} via {Host}: {Reply}", entry.Id, a.Recipient.Address, a.Result, a.RemoteHost ?? "-", a.Reply);
        }
    }

    private sealed class ListSource(IReadOnlyList<OutboundWorkItem> items) : IOutboundWorkSource
    {
        private int _next;

        public OutboundWorkItem? TryTake() => _next < items.Count ? items[_next++] : null;

        public void Completed(OutboundWorkItem item, IReadOnlyList<RecipientAttempt> attempts)
        {
        }
    }

    private static DsnRecipient Notice(QueueRecipientInfo r, DsnAction action, string status, RecipientAttempt a, DateTimeOffset now, DateTimeOffset? until) =>
        new(r.Address, r.OriginalRecipient, action, status, a.RemoteHost, a.Reply, now, until);
}