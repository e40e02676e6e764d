using System.ComponentModel.DataAnnotations;

namespace Pochta.Imap;

/// <summary>IMAP server settings (configuration section <c>Imap</c>).</summary>
public sealed class ImapOptions
{
    public const string Section = "Imap";

    /// <summary>RFC 9051 §5.4: the autologout timer for an authenticated session is at least 30 minutes.</summary>
    [Range(typeof(TimeSpan), "00:30:00", "1.00:00:00")]
    public TimeSpan AutologoutAuthenticated { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The shorter timer before authentication (RFC 9051 §5.4 allows it).</summary>
    [Range(typeof(TimeSpan), "00:00:10", "00:30:00")]
    public TimeSpan AutologoutNotAuthenticated { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Delay before answering a failed LOGIN/AUTHENTICATE.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan FailedLoginDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Failed authentications after which the connection is closed with BYE.</summary>
    [Range(1, 100)]
    public int MaxFailedLogins { get; set; } = 3;

    /// <summary>Longest command line after authentication (RFC 9051 §4 asks for at least 8000).</summary>
    [Range(8000, 16 * 1024 * 1024)]
    public int MaxLineLength { get; set; } = 64 * 1024;

    /// <summary>Longest command line before authentication.</summary>
    [Range(512, 65536)]
    public int MaxLineLengthBeforeAuth { get; set; } = 4 * 1024;

    /// <summary>Largest literal inside a command other than an APPEND message, before authentication.</summary>
    [Range(64, 65536)]
    public int MaxInlineLiteralBeforeAuth { get; set; } = 1024;

    /// <summary>Largest APPEND message (advertised as APPENDLIMIT, RFC 7889).</summary>
    [Range(1024, 4L * 1024 * 1024 * 1024)]
    public long MaxMessageSize { get; set; } = 50L * 1024 * 1024;

    /// <summary>Advertise and accept COMPRESS=DEFLATE (RFC 4978).</summary>
    public bool AllowCompress { get; set; } = true;

    /// <summary>Estimated bytes of decoded message indexes and header blocks shared by every
    /// session (<see cref="MessageCache"/>); 0 turns the cache off.</summary>
    [Range(0, 16L * 1024 * 1024 * 1024)]
    public long MessageCacheSize { get; set; } = 128L * 1024 * 1024;

    /// <summary>Message entries (about 100 bytes each) kept in the per-mailbox indexes shared by
    /// the sessions that select a mailbox (<see cref="MailboxSnapshots"/>).</summary>
    [Range(0, 100_000_000)]
    public long MailboxIndexEntries { get; set; } = 1_000_000;
}