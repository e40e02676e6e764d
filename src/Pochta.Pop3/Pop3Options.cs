using System.ComponentModel.DataAnnotations;

namespace Pochta.Pop3;

/// <summary>POP3 settings (configuration section <c>Pop3</c>).</summary>
public sealed class Pop3Options : IValidatableObject
{
    public const string Section = "Pop3";

    /// <summary>RFC 1939 §3: the autologout timer must be at least 10 minutes.</summary>
    public static readonly TimeSpan MinimumIdleTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Retention for messages already retrieved, in days; null keeps mail until the client deletes
    /// it (CAPA <c>EXPIRE NEVER</c>). The rule: at each POP3 login, messages of the INBOX that carry
    /// \Seen (set by RETR, or by an IMAP client reading them) and whose internal date (arrival) is
    /// more than this many days ago are expunged before the maildrop is snapshotted.
    /// </summary>
    [Range(0, 36500)]
    public int? ExpireDays { get; set; }

    /// <summary>RFC 2449 §6.5 LOGIN-DELAY: minimum seconds between two logins of one account;
    /// null or 0 disables it (not advertised).</summary>
    [Range(0, 86400)]
    public int? LoginDelaySeconds { get; set; }

    /// <summary>Inactivity before the server closes the session without entering UPDATE.</summary>
    public TimeSpan IdleTimeout { get; set; } = MinimumIdleTimeout;

    /// <summary>Failed authentications before the connection is closed.</summary>
    [Range(1, 100)]
    public int MaxAuthFailures { get; set; } = 3;

    /// <summary>Pause before answering a failed authentication.</summary>
    public TimeSpan AuthFailureDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Invalid or unknown commands tolerated before the connection is closed.</summary>
    [Range(1, 1000)]
    public int MaxBadCommands { get; set; } = 20;

    /// <summary>Octets accepted beyond RFC 2449's 255-octet command line.</summary>
    [Range(0, 65536)]
    public int LineLengthMargin { get; set; } = 257;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IdleTimeout < MinimumIdleTimeout)
        {
            yield return new ValidationResult("Pop3:IdleTimeout must be at least 00:10:00 (RFC 1939 §3).", [nameof(IdleTimeout)]);
        }

        if (AuthFailureDelay < TimeSpan.Zero || AuthFailureDelay > TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult("Pop3:AuthFailureDelay must be between 00:00:00 and 00:01:00.", [nameof(AuthFailureDelay)]);
        }
    }
}