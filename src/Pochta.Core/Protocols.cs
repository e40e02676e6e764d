namespace Pochta.Core;

/// <summary>The kinds of listener Pochta serves. The name is the configuration key.</summary>
public enum MailProtocol
{
    /// <summary>SMTP relay/MX, port 25 (RFC 5321).</summary>
    Smtp,

    /// <summary>Message submission with STARTTLS, port 587 (RFC 6409).</summary>
    Submission,

    /// <summary>Message submission over implicit TLS, port 465 (RFC 8314).</summary>
    Submissions,
    Imap,
    Imaps,
    Pop3,
    Pop3s,
    Http,
}