using System.ComponentModel.DataAnnotations;

namespace Pochta.Delivery.Outbound;

/// <summary>How the outbound queue delivers to remote hosts (configuration section <c>Outbound</c>).</summary>
public sealed class OutboundOptions
{
    public const string Section = "Outbound";

    /// <summary>The default <see cref="RetrySchedule"/>: 1m, 5m, 15m, 30m, 1h, 2h, 4h, then every 4h.</summary>
    public static IReadOnlyList<TimeSpan> DefaultRetrySchedule { get; } =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4),
    ];

    /// <summary>Delay before the n-th retry; the last entry repeats until <see cref="MaxQueueLifetime"/>.
    /// Null or empty means <see cref="DefaultRetrySchedule"/>. (An array, not a pre-filled list:
    /// the configuration binder would append to a pre-filled list.)</summary>
    public TimeSpan[]? RetrySchedule { get; set; }

    /// <summary>After this long in the queue a deferred recipient fails (failure DSN).</summary>
    public TimeSpan MaxQueueLifetime { get; set; } = TimeSpan.FromDays(5);

    /// <summary>A "delayed" DSN is sent once a recipient has been deferred this long.</summary>
    public TimeSpan DelayNotificationAfter { get; set; } = TimeSpan.FromHours(4);

    /// <summary>RFC 3461 §4.1: without NOTIFY the default is FAILURE, and DELAY at the MTA's
    /// discretion. True sends delay notices when NOTIFY was absent.</summary>
    public bool DelayNotificationWhenNotifyAbsent { get; set; } = true;

    /// <summary>Simultaneous outbound connections, all destinations together.</summary>
    [Range(1, 10_000)]
    public int MaxConnections { get; set; } = 50;

    /// <summary>Connections a destination (domain or relay) starts with: 5, as Postfix's
    /// <c>initial_destination_concurrency</c> (at 2 the relay benchmark delivered 0.7× of what 5
    /// did, docs/benchmarks.md). While the destination has messages waiting, each round of
    /// deliveries adds one, up to <see cref="MaxConnectionsPerDestination"/>; a message deferred
    /// for every recipient takes it back here.</summary>
    [Range(1, 1_000)]
    public int InitialConnectionsPerDestination { get; set; } = 5;

    /// <summary>The most simultaneous connections to one destination: 20, as Postfix's
    /// <c>default_destination_concurrency_limit</c>. Below the initial value it caps that too.</summary>
    [Range(1, 1_000)]
    public int MaxConnectionsPerDestination { get; set; } = 20;

    /// <summary>Messages sent over one connection before it is closed.</summary>
    [Range(1, 100_000)]
    public int MaxMessagesPerConnection { get; set; } = 100;

    /// <summary>Queue entries fetched per scan.</summary>
    [Range(1, 100_000)]
    public int ScanBatchSize { get; set; } = 500;

    /// <summary>The TCP port of MX hosts (25; tests point it elsewhere).</summary>
    [Range(1, 65535)]
    public int MxPort { get; set; } = 25;

    /// <summary>DNS servers as <c>ip</c> or <c>ip:port</c>; empty uses the system resolvers.</summary>
    public string[]? DnsServers { get; set; }

    /// <summary>DNS query timeout.</summary>
    public TimeSpan DnsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Static routes: recipient domain → <c>host:port</c> (or <c>host</c> for port 25),
    /// bypassing MX lookup. Opportunistic TLS as for MX hosts.</summary>
    public IDictionary<string, string> TransportMap { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>When set, every remote recipient goes through this relay.</summary>
    public SmartHostOptions? SmartHost { get; set; }

    /// <summary>RFC 7435 opportunistic TLS to MX hosts accepts unauthenticated encryption
    /// (a certificate that fails validation still encrypts against passive attackers). False
    /// makes certificate failure a failed handshake (the host is then treated as unreachable).</summary>
    public bool AcceptUnverifiedMxCertificates { get; set; } = true;

    /// <summary>After a failed STARTTLS handshake with an MX host, retry the same host in
    /// plaintext within the same attempt. Off by default: a downgrade is only taken when
    /// STARTTLS is not offered at all.</summary>
    public bool PlaintextAfterTlsFailure { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection stays open after a delivery run for the next run to the
    /// same destination (Postfix: <c>smtp_connection_cache_time_limit</c> = 2s). Zero closes
    /// each connection at the end of its run.</summary>
    public TimeSpan ConnectionCacheTime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a delivery outcome may wait so that outcomes of other messages share its
    /// commit (an fsync in the store's one writer, which the submissions use too). Zero commits
    /// each as soon as the previous outcome commit is done. A crash in this time only repeats
    /// the deliveries concerned (the window between a remote 250 and our commit, see
    /// OutboundDelivery); accepted mail is never at stake.</summary>
    public TimeSpan OutcomeCommitDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Per SMTP command (RFC 5321 §4.5.3.2 suggests minutes; DATA termination 10 min).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Where DKIM keys live: <c>&lt;dir&gt;/&lt;domain&gt;/&lt;selector&gt;.pem</c>. Null disables signing.</summary>
    public string? DkimDirectory { get; set; }

    /// <summary>Name used in EHLO and in DSN Reporting-MTA; defaults to <c>Server:HostName</c>.</summary>
    public string? HostName { get; set; }
}

public enum SmartHostTls
{
    /// <summary>STARTTLS required, certificate validated.</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465, RFC 8314), certificate validated.</summary>
    Implicit,

    /// <summary>Plaintext. Only for a relay on loopback or a trusted network.</summary>
    None,
}

public sealed class SmartHostOptions
{
    [Required]
    public string Host { get; set; } = "";

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    public SmartHostTls Tls { get; set; } = SmartHostTls.StartTls;

    public string? UserName { get; set; }

    public string? Password { get; set; }
}