using Pochta.Core;

namespace Pochta.Hosting;

/// <summary>
/// The listeners the running server actually serves (mail listeners with a registered
/// handler, and HTTP), with the endpoints Kestrel bound (ephemeral ports resolved).
/// Filled once Kestrel has started; used by autoconfig and the test fixture.
/// </summary>
public sealed class ListenerTable
{
    private readonly TaskCompletionSource<IReadOnlyList<ListenerInfo>> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IReadOnlyList<ListenerInfo> _listeners = [];

    /// <summary>Completes when the listeners are bound (faults or cancels if the start failed).</summary>
    public Task<IReadOnlyList<ListenerInfo>> Ready => _ready.Task;

    /// <summary>The live listeners; empty before the server has started.</summary>
    public IReadOnlyList<ListenerInfo> Listeners => Volatile.Read(ref _listeners);

    public ListenerInfo? Find(MailProtocol protocol) => Listeners.FirstOrDefault(l => l.Protocol == protocol);

    public ListenerInfo? Find(string name) => Listeners.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));

    public void Publish(IReadOnlyList<ListenerInfo> listeners)
    {
        Volatile.Write(ref _listeners, listeners);
        _ready.TrySetResult(listeners);
    }

    public void Fail(Exception exception) => _ready.TrySetException(exception);
}