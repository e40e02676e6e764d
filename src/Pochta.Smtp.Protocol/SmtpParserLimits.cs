namespace Pochta.Smtp.Protocol;

/// <summary>Line limits the reader enforces. Lengths include the terminating CRLF.</summary>
public sealed class SmtpParserLimits
{
    /// <summary>RFC 5321 §4.5.3.1.4: a command line is at most 512 octets.</summary>
    public int MaxCommandLineLength { get; init; } = 512;

    /// <summary>RFC 5321 §4.5.3.1.4 lets service extensions raise the limit: MAIL and RCPT lines
    /// carrying ESMTP parameters (SIZE, BODY, DSN's ENVID/ORCPT up to 100 xtext characters
    /// each, AUTH=) may be this long.</summary>
    public int MaxParameterLineLength { get; init; } = 2048;

    /// <summary>RFC 4954 §4: an AUTH command with an initial response may be 12288 octets.</summary>
    public int MaxAuthLineLength { get; init; } = 12288;

    /// <summary>RFC 5321 §4.5.3.1.6: a text line of DATA is at most 1000 octets with CRLF.</summary>
    public int MaxTextLineLength { get; init; } = 1000;

    /// <summary>The longest line the reader buffers before deciding it is too long.</summary>
    public int MaxBufferedLine => Math.Max(MaxCommandLineLength, Math.Max(MaxParameterLineLength, MaxAuthLineLength));

    public static SmtpParserLimits Default { get; } = new();
}