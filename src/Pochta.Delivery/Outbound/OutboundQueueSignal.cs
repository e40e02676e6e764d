using System.Threading.Channels;

namespace Pochta.Delivery.Outbound;

/// <summary>Lets the SMTP side (or the CLI) wake the outbound queue runner when mail was queued.</summary>
public interface IOutboundQueueSignal
{
    /// <summary>Non-blocking; safe from any thread; many calls collapse into one wake-up.</summary>
    void Notify();
}

/// <summary>A single-reader auto-reset signal.</summary>
public sealed class OutboundQueueSignal : IOutboundQueueSignal
{
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public void Notify() => _signal.Writer.TryWrite(true);

    /// <summary>Completes when notified (consuming the signal) or when <paramref name="cancellationToken"/> fires.</summary>
    internal async Task WaitAsync(CancellationToken cancellationToken) =>
        await _signal.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
}