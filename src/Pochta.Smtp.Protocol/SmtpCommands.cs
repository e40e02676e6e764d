using Pochta.Core;

namespace Pochta.Smtp.Protocol;

public enum SmtpCommandKind
{
    Ehlo,
    Helo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
}

/// <summary>RFC 6152 / RFC 3030 BODY parameter.</summary>
public enum SmtpBodyType
{
    Unspecified,
    SevenBit,
    EightBitMime,
    BinaryMime,
}

/// <summary>RFC 3461 §4.3 RET parameter.</summary>
public enum DsnReturn
{
    Unspecified,
    Full,
    Headers,
}

/// <summary>RFC 3461 §4.1 NOTIFY parameter.</summary>
[Flags]
public enum DsnNotify
{
    Unspecified = 0,
    Never = 1,
    Success = 2,
    Failure = 4,
    Delay = 8,
}

/// <summary>A parsed command. Texts carried here are client input: log them redacted and
/// never copy them into a reply.</summary>
public abstract record SmtpCommand(SmtpCommandKind Kind);

/// <summary>A command without arguments the server acts on (DATA, RSET, NOOP, QUIT, VRFY, EXPN, HELP, STARTTLS).</summary>
public sealed record SmtpSimpleCommand(SmtpCommandKind Kind) : SmtpCommand(Kind);

/// <summary>EHLO or HELO with the client's claimed name (printable ASCII, no spaces).</summary>
public sealed record SmtpHelloCommand(bool Extended, string ClientName) : SmtpCommand(Extended ? SmtpCommandKind.Ehlo : SmtpCommandKind.Helo);

/// <param name="Sender">Null for the null reverse path <c>&lt;&gt;</c>.</param>
/// <param name="HasParameters">Any ESMTP parameter was given (not allowed after HELO).</param>
public sealed record SmtpMailCommand(
    EmailAddress? Sender,
    bool HasParameters,
    long? Size,
    SmtpBodyType Body,
    bool SmtpUtf8,
    DsnReturn Return,
    string? EnvelopeId,
    string? AuthSender) : SmtpCommand(SmtpCommandKind.Mail);

/// <param name="Recipient">Null when the path was the special <c>&lt;Postmaster&gt;</c> (RFC 5321 §4.1.1.3).</param>
/// <param name="PathIsUtf8">The path has non-ASCII octets: valid only in an SMTPUTF8 transaction (RFC 6531 §3.4).</param>
/// <param name="OriginalRecipient">ORCPT as sent (<c>addr-type;xtext</c>), validated.</param>
public sealed record SmtpRcptCommand(
    EmailAddress? Recipient,
    bool PathIsUtf8,
    bool HasParameters,
    DsnNotify Notify,
    string? NotifyText,
    string? OriginalRecipient) : SmtpCommand(SmtpCommandKind.Rcpt)
{
    public bool IsPostmaster => Recipient is null;
}

/// <summary>RFC 3030 BDAT: <see cref="Size"/> octets of message data follow the command line.</summary>
public sealed record SmtpBdatCommand(long Size, bool Last) : SmtpCommand(SmtpCommandKind.Bdat);

/// <summary>RFC 4954 AUTH. <see cref="InitialResponse"/> is the base64 text as sent, <c>=</c> for empty.</summary>
public sealed record SmtpAuthCommand(string Mechanism, string? InitialResponse) : SmtpCommand(SmtpCommandKind.Auth);