using System.Net;
using System.Net.Sockets;

using Pochta.Hosting;

namespace Pochta.Server;

/// <summary>Checks that turn an operator mistake into one clear line before anything is created.</summary>
internal static class StartupChecks
{
    /// <summary>
    /// Test-binds every fixed port (port 0 is ephemeral and cannot collide), so that a port in
    /// use or a privileged port is reported with its listener and the fix, instead of a
    /// Kestrel stack trace after half the listeners are up.
    /// </summary>
    public static void CheckPorts(IEnumerable<(string Name, IPEndPoint EndPoint)> listeners)
    {
        foreach (var (name, endPoint) in listeners)
        {
            if (endPoint.Port == 0)
            {
                continue;
            }

            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // As Kestrel does on Unix: a port whose old connections linger in TIME_WAIT is
            // usable; one with a live listener is not (Linux refuses the bind either way).
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            try
            {
                socket.Bind(endPoint);
                socket.Listen(1);
            }
            catch (SocketException e)
            {
                throw new StartupException(Describe(name, endPoint, e.SocketErrorCode), e);
            }
        }
    }

    public static string Describe(string name, IPEndPoint endPoint, SocketError error)
    {
        var port = endPoint.Port;
        var where = $"port {port} (listener {name}, {Format(endPoint)})";
        return error switch
        {
            SocketError.AddressAlreadyInUse =>
                $"{where} is already in use; stop the program using it (ss -ltnp 'sport = :{port}') or set Listeners:{name}:Endpoint to another port",
            SocketError.AccessDenied =>
                $"{where} is privileged; run as root, grant CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep on the pochta binary), or set Listeners:{name}:Endpoint to a port above 1023",
            SocketError.AddressNotAvailable =>
                $"{where}: the address is not on this machine; set Listeners:{name}:Endpoint to a local address or *:{port}",
            _ => $"{where} cannot be bound ({error}); set Listeners:{name}:Endpoint or disable the listener with Listeners:{name}:Enabled=false",
        };
    }

    public static string Format(IPEndPoint endPoint) =>
        endPoint.Address.Equals(IPAddress.IPv6Any) ? "*:" + endPoint.Port : endPoint.ToString();

    /// <summary>Creates the data directory if needed and proves it writable with a probe file.</summary>
    public static void PrepareDataDirectory(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new StartupException($"data directory {directory} cannot be created ({e.Message.TrimEnd('.')}); choose another with --data", e);
        }

        var probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                stream.WriteByte(0);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"data directory {directory} is not writable ({e.Message.TrimEnd('.')}); fix its owner or permissions, or choose another with --data", e);
        }
    }
}