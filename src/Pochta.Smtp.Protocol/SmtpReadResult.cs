namespace Pochta.Smtp.Protocol;

public enum SmtpReadStatus
{
    /// <summary>No complete line yet: keep the unread bytes and read more.</summary>
    NeedMoreData,

    /// <summary>A command was parsed.</summary>
    Command,

    /// <summary>A complete line was consumed but is not a valid command.</summary>
    Error,
}

public enum SmtpSyntaxError
{
    None,

    /// <summary>500 5.5.1: the verb is not an SMTP command.</summary>
    UnknownCommand,

    /// <summary>500 5.5.2: the line is longer than its limit (RFC 5321 §4.5.3.1.4).</summary>
    LineTooLong,

    /// <summary>500 5.5.2: a line ended with a bare LF, or contained CR or NUL.</summary>
    BadLineEnding,

    /// <summary>501 5.5.4: wrong or missing arguments.</summary>
    BadArguments,

    /// <summary>501 5.1.7: the MAIL path is not a valid mailbox.</summary>
    BadSenderAddress,

    /// <summary>501 5.1.3: the RCPT path is not a valid mailbox.</summary>
    BadRecipientAddress,

    /// <summary>555 5.5.4: a MAIL/RCPT parameter is not recognized (RFC 5321 §4.1.1.11).</summary>
    UnknownParameter,

    /// <summary>501 5.5.4: a recognized parameter has an invalid value or appears twice.</summary>
    BadParameterValue,

    /// <summary>553 5.6.7: a non-ASCII address without SMTPUTF8 (RFC 6531 §3.2, RFC 6533 §5.3).</summary>
    Utf8NotAllowed,
}

/// <summary>What <see cref="SmtpCommandReader.TryRead"/> produced. <see cref="Kind"/> is the verb's
/// command kind when the verb was recognized (also for errors in its arguments).</summary>
public readonly record struct SmtpReadResult(SmtpReadStatus Status, SmtpCommand? Command, SmtpSyntaxError Error, SmtpCommandKind? Kind)
{
    public static SmtpReadResult NeedMore => new(SmtpReadStatus.NeedMoreData, null, SmtpSyntaxError.None, null);

    public static SmtpReadResult Ok(SmtpCommand command) => new(SmtpReadStatus.Command, command, SmtpSyntaxError.None, command.Kind);

    public static SmtpReadResult Fail(SmtpSyntaxError error, SmtpCommandKind? kind = null) => new(SmtpReadStatus.Error, null, error, kind);
}