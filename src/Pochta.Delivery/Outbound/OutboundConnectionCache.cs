using MailKit.Net.Smtp;

namespace Pochta.Delivery.Outbound;

/// <summary>A connected session left open after a delivery run, for the next run to the same destination.</summary>
internal sealed record IdleConnection(OutboundSmtpClient Client, string HostName, int MessagesSent);

/// <summary>
/// Keeps connections open for <see cref="OutboundOptions.ConnectionCacheTime"/> after a
/// delivery run (as Postfix's smtp connection cache, <c>smtp_connection_cache_time_limit</c>):
/// a queue that receives mail in a steady stream hands each destination's next messages to a
/// session that is already greeted and EHLOed instead of connecting per batch. An idle
/// connection is closed (QUIT) when its time is up, when it is taken and found closed, or when
/// the cache is disposed; a taken connection that the server closed while idle is handled by
/// <see cref="DestinationSession"/> like any reused connection (one fresh connection first).
/// </summary>
internal sealed class OutboundConnectionCache(TimeSpan idleTime, TimeProvider timeProvider) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<(IdleConnection Connection, ITimer Timer)>> _idle = new(StringComparer.Ordinal);
    private bool _disposed;

    public bool Enabled => idleTime > TimeSpan.Zero;

    /// <summary>The most recently returned idle connection to this destination that is still connected, or null.</summary>
    public IdleConnection? Take(string destinationKey)
    {
        while (true)
        {
            (IdleConnection Connection, ITimer Timer) found;
            lock (_gate)
            {
                if (!_idle.TryGetValue(destinationKey, out var list) || list.Count == 0)
                {
                    return null;
                }

                found = list[^1];
                list.RemoveAt(list.Count - 1);
                if (list.Count == 0)
                {
                    _idle.Remove(destinationKey);
                }
            }

            found.Timer.Dispose();
            if (found.Connection.Client.IsConnected)
            {
                return found.Connection;
            }

            found.Connection.Client.Dispose();
        }
    }

    /// <summary>Keeps the connection for the next run; false (the caller closes it) when caching is off or the cache is closed.</summary>
    public bool Return(string destinationKey, IdleConnection connection)
    {
        if (!Enabled || !connection.Client.IsConnected)
        {
            return false;
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            var timer = timeProvider.CreateTimer(_ => Expire(destinationKey, connection), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (!_idle.TryGetValue(destinationKey, out var list))
            {
                _idle[destinationKey] = list = [];
            }

            list.Add((connection, timer));
            timer.Change(idleTime, Timeout.InfiniteTimeSpan);
        }

        return true;
    }

    private void Expire(string destinationKey, IdleConnection connection)
    {
        lock (_gate)
        {
            if (!_idle.TryGetValue(destinationKey, out var list))
            {
                return;
            }

            var index = list.FindIndex(e => ReferenceEquals(e.Connection, connection));
            if (index < 0)
            {
                return; // taken meanwhile
            }

            list[index].Timer.Dispose();
            list.RemoveAt(index);
            if (list.Count == 0)
            {
                _idle.Remove(destinationKey);
            }
        }

        _ = CloseAsync(connection.Client);
    }

    internal static async Task CloseAsync(OutboundSmtpClient client)
    {
        try
        {
            if (client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await client.DisconnectAsync(quit: true, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SmtpProtocolException or System.Net.Sockets.SocketException or SmtpCommandException or OperationCanceledException or ObjectDisposedException)
        {
            // QUIT is a courtesy: every outcome sent over this connection is recorded.
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<(IdleConnection Connection, ITimer Timer)> all;
        lock (_gate)
        {
            _disposed = true;
            all = [.. _idle.Values.SelectMany(l => l)];
            _idle.Clear();
        }

        foreach (var (connection, timer) in all)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
            await CloseAsync(connection.Client).ConfigureAwait(false);
        }
    }
}