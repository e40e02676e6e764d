using Pochta.Smtp.Protocol;

namespace Pochta.Smtp;

/// <summary>Every fixed reply the server sends. None contains client input (conventions:
/// replies never echo what the client sent). RFC 2034 §4: enhanced codes on every 2xx/4xx/5xx
/// reply except the greeting and the EHLO/HELO reply; never on 3xx.</summary>
internal static class SmtpReplies
{
    public static readonly SmtpReply Ok = new(250, "2.0.0", "OK");
    public static readonly SmtpReply SenderOk = new(250, "2.1.0", "Sender OK");
    public static readonly SmtpReply RecipientOk = new(250, "2.1.5", "Recipient OK");
    public static readonly SmtpReply ResetOk = new(250, "2.0.0", "Reset OK");
    public static readonly SmtpReply ChunkOk = new(250, "2.0.0", "Chunk received");
    public static readonly SmtpReply Bye = new(221, "2.0.0", "Closing connection");
    public static readonly SmtpReply VrfyCannot = new(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
    public static readonly SmtpReply StartData = new(354, null, "Start mail input; end with <CRLF>.<CRLF>");
    public static readonly SmtpReply StartTlsReady = new(220, "2.0.0", "Ready to start TLS");
    public static readonly SmtpReply AuthOk = new(235, "2.7.0", "Authentication successful");
    public static readonly SmtpReply Help = new(214, "2.0.0", [
        "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
        "See RFC 5321",
    ]);

    public static readonly SmtpReply UnknownCommand = new(500, "5.5.1", "Command unrecognized");
    public static readonly SmtpReply LineTooLong = new(500, "5.5.2", "Line too long");
    public static readonly SmtpReply BadLineEnding = new(500, "5.5.2", "Lines must end with CRLF");
    public static readonly SmtpReply BadArguments = new(501, "5.5.4", "Syntax error in parameters or arguments");
    public static readonly SmtpReply BadSender = new(501, "5.1.7", "Bad sender address syntax");
    public static readonly SmtpReply BadRecipient = new(501, "5.1.3", "Bad recipient address syntax");
    public static readonly SmtpReply UnknownParameter = new(555, "5.5.4", "Parameter not recognized or not implemented");
    public static readonly SmtpReply BadParameter = new(501, "5.5.4", "Invalid parameter value");
    public static readonly SmtpReply Utf8NotAllowed = new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
    public static readonly SmtpReply NotImplemented = new(502, "5.5.1", "Command not implemented");
    public static readonly SmtpReply BadSequence = new(503, "5.5.1", "Bad sequence of commands");
    public static readonly SmtpReply NoValidRecipients = new(554, "5.5.1", "No valid recipients");
    public static readonly SmtpReply BinaryNeedsBdat = new(503, "5.5.1", "BODY=BINARYMIME requires BDAT");
    public static readonly SmtpReply AlreadyAuthenticated = new(503, "5.5.1", "Already authenticated");
    public static readonly SmtpReply AlreadyTls = new(503, "5.5.1", "TLS already active");

    public static readonly SmtpReply AuthRequired = new(530, "5.7.0", "Authentication required");
    public static readonly SmtpReply TlsRequired = new(530, "5.7.0", "Must issue a STARTTLS command first");
    public static readonly SmtpReply TlsNotAvailable = new(454, "4.7.0", "TLS not available");
    public static readonly SmtpReply UnknownMechanism = new(504, "5.5.4", "Unrecognized authentication type");
    public static readonly SmtpReply AuthCancelled = new(501, "5.0.0", "Authentication cancelled");
    public static readonly SmtpReply AuthMalformed = new(501, "5.5.2", "Malformed authentication data");
    public static readonly SmtpReply AuthLineTooLong = new(500, "5.5.6", "Authentication exchange line is too long");
    public static readonly SmtpReply AuthFailed = new(535, "5.7.8", "Authentication credentials invalid");
    public static readonly SmtpReply SenderNotOwned = new(553, "5.7.1", "Sender address not owned by authenticated user");

    public static readonly SmtpReply MessageTooBig = new(552, "5.3.4", "Message size exceeds fixed maximum message size");
    public static readonly SmtpReply InsufficientStorage = new(452, "4.3.1", "Insufficient system storage");
    public static readonly SmtpReply TooManyRecipients = new(452, "4.5.3", "Too many recipients");
    public static readonly SmtpReply UnknownUser = new(550, "5.1.1", "Recipient address rejected: user unknown");
    public static readonly SmtpReply MailboxDisabled = new(550, "5.2.1", "Mailbox disabled");
    public static readonly SmtpReply AliasLoop = new(550, "5.4.6", "Alias expansion loop or no valid target");
    public static readonly SmtpReply RelayDenied = new(554, "5.7.1", "Relay access denied");
    public static readonly SmtpReply RecipientTemporary = new(451, "4.3.0", "Temporary failure looking up recipient");
    public static readonly SmtpReply BareLineEnding = new(554, "5.6.0", "Message contains bare CR or LF; not accepted");
    public static readonly SmtpReply TextLineTooLong = new(500, "5.5.2", "Message has a line longer than the limit");
    public static readonly SmtpReply MailboxFull = new(452, "4.2.2", "Mailbox full, try again later");
    public static readonly SmtpReply MessageExceedsQuota = new(552, "5.2.2", "Message size exceeds the mailbox quota");
    public static readonly SmtpReply LocalError = new(451, "4.3.0", "Local error in processing; try again later");

    public static readonly SmtpReply TooManyErrors = new(421, "4.7.0", "Too many errors, closing connection");
    public static readonly SmtpReply TooManyAuthFailures = new(421, "4.7.0", "Too many failed authentication attempts, closing connection");
    public static readonly SmtpReply IdleTimeout = new(421, "4.4.2", "Idle timeout, closing connection");
    public static readonly SmtpReply ShuttingDown = new(421, "4.3.2", "Service shutting down, closing connection");
    public static readonly SmtpReply TransferTooSlow = new(421, "4.4.2", "Data transfer too slow, closing connection");

    public static SmtpReply Greeting(string host) => new(220, null, host + " ESMTP Pochta");

    public static SmtpReply TooManyConnections(string host) => new(421, "4.7.0", host + " Too many connections from your address, try again later");

    public static SmtpReply Accepted(string id) => new(250, "2.0.0", "Message accepted for delivery, queued as " + id);

    public static SmtpReply For(SmtpSyntaxError error) => error switch
    {
        SmtpSyntaxError.UnknownCommand => UnknownCommand,
        SmtpSyntaxError.LineTooLong => LineTooLong,
        SmtpSyntaxError.BadLineEnding => BadLineEnding,
        SmtpSyntaxError.BadSenderAddress => BadSender,
        SmtpSyntaxError.BadRecipientAddress => BadRecipient,
        SmtpSyntaxError.UnknownParameter => UnknownParameter,
        SmtpSyntaxError.BadParameterValue => BadParameter,
        SmtpSyntaxError.Utf8NotAllowed => Utf8NotAllowed,
        _ => BadArguments,
    };
}