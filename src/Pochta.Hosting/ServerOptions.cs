using System.ComponentModel.DataAnnotations;

namespace Pochta.Hosting;

/// <summary>Server-wide settings (configuration section <c>Server</c>).</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>The name this server uses in greetings, EHLO, Received headers and its certificate.</summary>
    [Required]
    [MinLength(1)]
    public string HostName { get; set; } = "localhost";

    /// <summary>Connections from loopback count as secure for plaintext authentication (as Dovecot does).</summary>
    public bool LoopbackIsSecure { get; set; } = true;

    /// <summary>Maximum simultaneous connections from one client IP address, per listener.</summary>
    [Range(1, 100_000)]
    public int MaxConnectionsPerIp { get; set; } = 20;

    /// <summary>On stop, how long sessions get to finish their current command and say goodbye
    /// before their connections are closed.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Runs session code on the socket I/O threads instead of the thread pool (Kestrel's
    /// <c>UnsafePreferInlineScheduling</c>): one thread hop less per read and write, at the risk
    /// that a session computing for long holds up the others on its I/O queue. Off by default;
    /// docs/benchmarks.md has the measurement.</summary>
    public bool InlineScheduling { get; set; }
}