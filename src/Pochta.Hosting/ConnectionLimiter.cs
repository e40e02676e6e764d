using System.Collections.Concurrent;
using System.Net;

namespace Pochta.Hosting;

/// <summary>Counts open connections per (listener, client IP).</summary>
public sealed class ConnectionLimiter
{
    private readonly ConcurrentDictionary<(string Listener, IPAddress Address), int> _counts = new();

    public int Count(string listener, IPAddress address) => _counts.TryGetValue((listener, address), out var n) ? n : 0;

    /// <summary>Registers a connection; the lease says whether it is within <paramref name="limit"/>.
    /// Dispose the lease when the connection ends.</summary>
    public Lease Acquire(string listener, IPAddress? address, int limit)
    {
        if (address is null)
        {
            return new Lease(this, default, withinLimit: true, counted: false);
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var key = (listener, address);
        var count = _counts.AddOrUpdate(key, 1, static (_, n) => n + 1);
        return new Lease(this, key, count <= limit, counted: true);
    }

    private void Release((string, IPAddress) key)
    {
        while (true)
        {
            var current = _counts[key];
            if (current == 1
                ? _counts.TryRemove(new KeyValuePair<(string, IPAddress), int>(key, 1))
                : _counts.TryUpdate(key, current - 1, current))
            {
                return;
            }
        }
    }

    public readonly struct Lease : IDisposable
    {
        private readonly ConnectionLimiter? _owner;
        private readonly (string, IPAddress) _key;
        private readonly bool _counted;

        internal Lease(ConnectionLimiter owner, (string, IPAddress) key, bool withinLimit, bool counted)
        {
            _owner = owner;
            _key = key;
            _counted = counted;
            WithinLimit = withinLimit;
        }

        public bool WithinLimit { get; }

        public void Dispose()
        {
            if (_counted)
            {
                _owner?.Release(_key);
            }
        }
    }
}