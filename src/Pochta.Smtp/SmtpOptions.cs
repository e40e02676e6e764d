using System.ComponentModel.DataAnnotations;

namespace Pochta.Smtp;

/// <summary>SMTP limits and policy (configuration section <c>Smtp</c>).</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    /// <summary>Maximum message size in octets, advertised in SIZE (RFC 1870) and enforced while streaming.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxMessageSize { get; set; } = 25L * 1024 * 1024;

    /// <summary>RFC 5321 §4.5.3.1.8: at least 100 recipients must be accepted; more get 452 4.5.3.</summary>
    [Range(1, 100_000)]
    public int MaxRecipients { get; set; } = 100;

    /// <summary>RFC 5321 §4.5.3.1.4 command line limit, with CRLF.</summary>
    [Range(512, 65536)]
    public int MaxCommandLineLength { get; set; } = 512;

    /// <summary>MAIL/RCPT lines carrying ESMTP parameters (extensions raise the limit).</summary>
    [Range(512, 65536)]
    public int MaxParameterLineLength { get; set; } = 2048;

    /// <summary>RFC 4954 §4: AUTH lines (and SASL responses) up to 12288 octets.</summary>
    [Range(512, 65536)]
    public int MaxAuthLineLength { get; set; } = 12288;

    /// <summary>RFC 5321 §4.5.3.1.6 text line limit in DATA, with CRLF.</summary>
    [Range(80, 1_000_000)]
    public int MaxTextLineLength { get; set; } = 1000;

    /// <summary>Refuse DATA with a line longer than <see cref="MaxTextLineLength"/> (500 5.5.2).</summary>
    public bool RejectLongLines { get; set; } = true;

    /// <summary>RFC 5321 §4.5.3.2.7: at least 5 minutes without a command before the server gives up.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A DATA/BDAT transfer slower than this (octets per second, after the grace period) is cut.</summary>
    [Range(0, int.MaxValue)]
    public int MinimumDataRate { get; set; } = 500;

    /// <summary>Time a transfer gets before <see cref="MinimumDataRate"/> applies.</summary>
    public TimeSpan DataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Error replies (4xx/5xx) in one session before it is closed with 421.</summary>
    [Range(1, 10_000)]
    public int MaxErrors { get; set; } = 20;

    /// <summary>Failed AUTH attempts before the connection is closed.</summary>
    [Range(1, 100)]
    public int MaxAuthFailures { get; set; } = 3;

    /// <summary>Delay before answering a failed AUTH (slows password guessing).</summary>
    public TimeSpan AuthFailureDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>, <c>::1/128</c>) that may relay without AUTH.</summary>
    public string[] TrustedNetworks { get; set; } = [];

    /// <summary>Submission: the envelope sender must be the account's address or an alias reaching it (553 5.7.1).</summary>
    public bool RequireSenderOwnership { get; set; } = true;

    /// <summary>MAIL is refused with 452 4.3.1 when free disk is below this many times <see cref="MaxMessageSize"/>.</summary>
    [Range(0, 1000)]
    public double MinFreeDiskFactor { get; set; } = 1.5;
}