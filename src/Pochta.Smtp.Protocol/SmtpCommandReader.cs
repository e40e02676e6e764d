using System.Buffers;
using System.Text;

namespace Pochta.Smtp.Protocol;

/// <summary>
/// Reads SMTP command lines (RFC 5321 §4.1) from a byte sequence. Resumable: when no complete
/// line is buffered it consumes nothing and asks for more; a line longer than the largest limit
/// is discarded as it arrives (bounded memory) and reported once its LF is seen. Not thread-safe:
/// one reader per session.
/// </summary>
public sealed class SmtpCommandReader(SmtpParserLimits? limits = null)
{
    private const int StackLine = 1024;
    private readonly SmtpParserLimits _limits = limits ?? SmtpParserLimits.Default;
    private bool _discarding;

    public SmtpParserLimits Limits => _limits;

    /// <summary>Reads at most one command line. After <see cref="SmtpReadStatus.NeedMoreData"/> the
    /// caller keeps the unread bytes (<c>AdvanceTo(reader.Position, buffer.End)</c>) and calls again
    /// with more.</summary>
    public SmtpReadResult TryRead(ref SequenceReader<byte> reader)
    {
        if (_discarding)
        {
            if (!reader.TryAdvanceTo((byte)'\n'))
            {
                reader.AdvanceToEnd();
                return SmtpReadResult.NeedMore;
            }

            _discarding = false;
            return SmtpReadResult.Fail(SmtpSyntaxError.LineTooLong);
        }

        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            if (reader.Remaining >= _limits.MaxBufferedLine)
            {
                reader.AdvanceToEnd();
                _discarding = true;
            }

            return SmtpReadResult.NeedMore;
        }

        if (line.Length + 1 > _limits.MaxBufferedLine)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.LineTooLong);
        }

        var length = (int)line.Length;
        byte[]? rented = null;
        var buffer = length <= StackLine ? stackalloc byte[StackLine] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            line.CopyTo(buffer);
            return ParseLine(buffer[..length], _limits);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Parses one line without its LF (it must end in CR).</summary>
    public static SmtpReadResult ParseLine(ReadOnlySpan<byte> line, SmtpParserLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);

        // RFC 5321 §2.3.8: lines end in CRLF; a bare LF or an embedded CR is not a line ending.
        if (line.IsEmpty || line[^1] != '\r')
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadLineEnding);
        }

        var wireLength = line.Length + 1;
        line = line[..^1];
        if (line.IndexOfAny((byte)'\r', (byte)0) >= 0)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadLineEnding);
        }

        var space = line.IndexOf((byte)' ');
        var verb = space < 0 ? line : line[..space];
        var args = space < 0 ? [] : line[(space + 1)..];
        var kind = IdentifyVerb(verb);
        if (kind is null)
        {
            return wireLength > limits.MaxCommandLineLength
                ? SmtpReadResult.Fail(SmtpSyntaxError.LineTooLong)
                : SmtpReadResult.Fail(SmtpSyntaxError.UnknownCommand);
        }

        var k = kind.Value;
        var max = k switch
        {
            SmtpCommandKind.Mail or SmtpCommandKind.Rcpt => limits.MaxParameterLineLength,
            SmtpCommandKind.Auth => limits.MaxAuthLineLength,
            _ => limits.MaxCommandLineLength,
        };
        if (wireLength > max)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.LineTooLong, k);
        }

        var result = k switch
        {
            SmtpCommandKind.Ehlo or SmtpCommandKind.Helo => ParseHello(k == SmtpCommandKind.Ehlo, args),
            SmtpCommandKind.Mail => ParseMail(args),
            SmtpCommandKind.Rcpt => ParseRcpt(args),
            SmtpCommandKind.Bdat => ParseBdat(args),
            SmtpCommandKind.Auth => ParseAuth(args),
            SmtpCommandKind.Data or SmtpCommandKind.Rset or SmtpCommandKind.Quit or SmtpCommandKind.StartTls =>
                TrimSpaces(args).IsEmpty ? SmtpReadResult.Ok(new SmtpSimpleCommand(k)) : SmtpReadResult.Fail(SmtpSyntaxError.BadArguments, k),
            SmtpCommandKind.Vrfy or SmtpCommandKind.Expn =>
                TrimSpaces(args).IsEmpty ? SmtpReadResult.Fail(SmtpSyntaxError.BadArguments, k) : SmtpReadResult.Ok(new SmtpSimpleCommand(k)),
            _ => SmtpReadResult.Ok(new SmtpSimpleCommand(k)), // NOOP, HELP: any argument is ignored (RFC 5321 §4.1.1.9, §4.1.1.8).
        };

        // A short line whose parameters would only be legal on a long line is still fine; a long
        // MAIL/RCPT line without parameters must fit the basic limit.
        if (result.Command is SmtpMailCommand { HasParameters: false } or SmtpRcptCommand { HasParameters: false } &&
            wireLength > limits.MaxCommandLineLength)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.LineTooLong, k);
        }

        if (result.Command is SmtpAuthCommand { InitialResponse: null } && wireLength > limits.MaxCommandLineLength)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.LineTooLong, k);
        }

        return result.Status == SmtpReadStatus.Error ? result with { Kind = k } : result;
    }

    private static SmtpCommandKind? IdentifyVerb(ReadOnlySpan<byte> verb) => verb.Length switch
    {
        4 when Ascii.EqualsIgnoreCase(verb, "EHLO"u8) => SmtpCommandKind.Ehlo,
        4 when Ascii.EqualsIgnoreCase(verb, "HELO"u8) => SmtpCommandKind.Helo,
        4 when Ascii.EqualsIgnoreCase(verb, "MAIL"u8) => SmtpCommandKind.Mail,
        4 when Ascii.EqualsIgnoreCase(verb, "RCPT"u8) => SmtpCommandKind.Rcpt,
        4 when Ascii.EqualsIgnoreCase(verb, "DATA"u8) => SmtpCommandKind.Data,
        4 when Ascii.EqualsIgnoreCase(verb, "BDAT"u8) => SmtpCommandKind.Bdat,
        4 when Ascii.EqualsIgnoreCase(verb, "RSET"u8) => SmtpCommandKind.Rset,
        4 when Ascii.EqualsIgnoreCase(verb, "NOOP"u8) => SmtpCommandKind.Noop,
        4 when Ascii.EqualsIgnoreCase(verb, "QUIT"u8) => SmtpCommandKind.Quit,
        4 when Ascii.EqualsIgnoreCase(verb, "VRFY"u8) => SmtpCommandKind.Vrfy,
        4 when Ascii.EqualsIgnoreCase(verb, "EXPN"u8) => SmtpCommandKind.Expn,
        4 when Ascii.EqualsIgnoreCase(verb, "HELP"u8) => SmtpCommandKind.Help,
        4 when Ascii.EqualsIgnoreCase(verb, "AUTH"u8) => SmtpCommandKind.Auth,
        8 when Ascii.EqualsIgnoreCase(verb, "STARTTLS"u8) => SmtpCommandKind.StartTls,
        _ => null,
    };

    private static ReadOnlySpan<byte> TrimSpaces(ReadOnlySpan<byte> s) => s.Trim((byte)' ');

    // RFC 5321 §4.1.1.1: EHLO SP ( Domain / address-literal ). Leniency: any token of letters,
    // digits and "-._:[]" is taken as the client's name, for Windows hosts (Outlook) that send
    // NetBIOS names with underscores; the name is informational (Received header) only.
    private static SmtpReadResult ParseHello(bool extended, ReadOnlySpan<byte> args)
    {
        var name = TrimSpaces(args);
        if (name.IsEmpty || name.Length > 255)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadArguments);
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit((char)c) || c is (byte)'-' or (byte)'.' or (byte)'_' or (byte)':' or (byte)'[' or (byte)']'))
            {
                return SmtpReadResult.Fail(SmtpSyntaxError.BadArguments);
            }
        }

        return SmtpReadResult.Ok(new SmtpHelloCommand(extended, Encoding.ASCII.GetString(name)));
    }

    // RFC 5321 §4.1.1.2: "MAIL FROM:" Reverse-path [SP Mail-parameters].
    private static SmtpReadResult ParseMail(ReadOnlySpan<byte> args)
    {
        if (!TryStripKeyword(args, "FROM:"u8, out var rest))
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadArguments);
        }

        if (!SmtpPathParser.TryParse(rest, allowNull: true, allowPostmaster: false, out var path))
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadSenderAddress);
        }

        var parameters = rest[path.Consumed..];
        long? size = null;
        var body = SmtpBodyType.Unspecified;
        var utf8 = false;
        var ret = DsnReturn.Unspecified;
        string? envid = null;
        string? auth = null;
        var seen = 0;
        var any = false;
        var error = SmtpSyntaxError.None;
        ForEachParameter(parameters, (keyword, value, hasValue) =>
        {
            any = true;
            int bit;
            if (Ascii.EqualsIgnoreCase(keyword, "SIZE"u8))
            {
                bit = 1;
                if (!hasValue || value.IsEmpty || value.Length > 20 || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
                {
                    return SmtpSyntaxError.BadParameterValue;
                }

                // More than long.MaxValue octets is simply "too large".
                size = long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue;
            }
            else if (Ascii.EqualsIgnoreCase(keyword, "BODY"u8))
            {
                bit = 2;
                body = !hasValue ? SmtpBodyType.Unspecified
                    : Ascii.EqualsIgnoreCase(value, "7BIT"u8) ? SmtpBodyType.SevenBit
                    : Ascii.EqualsIgnoreCase(value, "8BITMIME"u8) ? SmtpBodyType.EightBitMime
                    : Ascii.EqualsIgnoreCase(value, "BINARYMIME"u8) ? SmtpBodyType.BinaryMime
                    : SmtpBodyType.Unspecified;
                if (body == SmtpBodyType.Unspecified)
                {
                    return SmtpSyntaxError.BadParameterValue;
                }
            }
            else if (Ascii.EqualsIgnoreCase(keyword, "SMTPUTF8"u8))
            {
                // RFC 6531 §3.4: SMTPUTF8 takes no value.
                bit = 4;
                if (hasValue)
                {
                    return SmtpSyntaxError.BadParameterValue;
                }

                utf8 = true;
            }
            else if (Ascii.EqualsIgnoreCase(keyword, "RET"u8))
            {
                bit = 8;
                ret = !hasValue ? DsnReturn.Unspecified
                    : Ascii.EqualsIgnoreCase(value, "FULL"u8) ? DsnReturn.Full
                    : Ascii.EqualsIgnoreCase(value, "HDRS"u8) ? DsnReturn.Headers
                    : DsnReturn.Unspecified;
                if (ret == DsnReturn.Unspecified)
                {
                    return SmtpSyntaxError.BadParameterValue;
                }
            }
            else if (Ascii.EqualsIgnoreCase(keyword, "ENVID"u8))
            {
                // RFC 3461 §4.4: xtext, at most 100 characters.
                bit = 16;
                if (!hasValue || value.IsEmpty || value.Length > 100 || !XText.TryDecode(value, out var decoded))
                {
                    return SmtpSyntaxError.BadParameterValue;
                }

                envid = decoded;
            }
            else if (Ascii.EqualsIgnoreCase(keyword, "AUTH"u8))
            {
                // RFC 4954 §5: AUTH=xtext, the decoded value is "<>" or a mailbox.
                bit = 32;
                if (!hasValue || value.IsEmpty || !XText.TryDecode(value, out var decoded))
                {
                    return SmtpSyntaxError.BadParameterValue;
                }

                auth = decoded;
            }
            else
            {
                return SmtpSyntaxError.UnknownParameter;
            }

            if ((seen & bit) != 0)
            {
                return SmtpSyntaxError.BadParameterValue;
            }

            seen |= bit;
            return SmtpSyntaxError.None;
        }, ref error);

        if (error != SmtpSyntaxError.None)
        {
            return SmtpReadResult.Fail(error);
        }

        if (path.IsUtf8 && !utf8)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.Utf8NotAllowed);
        }

        return SmtpReadResult.Ok(new SmtpMailCommand(path.Address, any, size, body, utf8, ret, envid, auth));
    }

    // RFC 5321 §4.1.1.3: "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters].
    private static SmtpReadResult ParseRcpt(ReadOnlySpan<byte> args)
    {
        if (!TryStripKeyword(args, "TO:"u8, out var rest))
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadArguments);
        }

        if (!SmtpPathParser.TryParse(rest, allowNull: false, allowPostmaster: true, out var path))
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadRecipientAddress);
        }

        var notify = DsnNotify.Unspecified;
        string? notifyText = null;
        string? orcpt = null;
        var seen = 0;
        var any = false;
        var error = SmtpSyntaxError.None;
        ForEachParameter(rest[path.Consumed..], (keyword, value, hasValue) =>
        {
            any = true;
            int bit;
            if (Ascii.EqualsIgnoreCase(keyword, "NOTIFY"u8))
            {
                bit = 1;
                if (!hasValue || !TryParseNotify(value, out notify, out notifyText))
                {
                    return SmtpSyntaxError.BadParameterValue;
                }
            }
            else if (Ascii.EqualsIgnoreCase(keyword, "ORCPT"u8))
            {
                // RFC 3461 §4.2: addr-type ";" xtext, at most 500 characters.
                bit = 2;
                if (!hasValue || value.Length > 500)
                {
                    return SmtpSyntaxError.BadParameterValue;
                }

                var semi = value.IndexOf((byte)';');
                if (semi <= 0 || !IsAtom(value[..semi]) || !XText.TryDecode(value[(semi + 1)..], out var decoded) || decoded.Length == 0)
                {
                    return SmtpSyntaxError.BadParameterValue;
                }

                orcpt = Encoding.ASCII.GetString(value);
            }
            else
            {
                return SmtpSyntaxError.UnknownParameter;
            }

            if ((seen & bit) != 0)
            {
                return SmtpSyntaxError.BadParameterValue;
            }

            seen |= bit;
            return SmtpSyntaxError.None;
        }, ref error);

        if (error != SmtpSyntaxError.None)
        {
            return SmtpReadResult.Fail(error);
        }

        return SmtpReadResult.Ok(new SmtpRcptCommand(path.IsPostmaster ? null : path.Address, path.IsUtf8, any, notify, notifyText, orcpt));
    }

    private static bool TryParseNotify(ReadOnlySpan<byte> value, out DsnNotify notify, out string? text)
    {
        notify = DsnNotify.Unspecified;
        text = null;
        if (Ascii.EqualsIgnoreCase(value, "NEVER"u8))
        {
            notify = DsnNotify.Never;
            text = "NEVER";
            return true;
        }

        // RFC 3461 §4.1: NEVER alone, or a list of SUCCESS, FAILURE, DELAY.
        var parts = new List<string>(3);
        while (!value.IsEmpty)
        {
            var comma = value.IndexOf((byte)',');
            var item = comma < 0 ? value : value[..comma];
            value = comma < 0 ? [] : value[(comma + 1)..];
            DsnNotify flag;
            if (Ascii.EqualsIgnoreCase(item, "SUCCESS"u8))
            {
                flag = DsnNotify.Success;
            }
            else if (Ascii.EqualsIgnoreCase(item, "FAILURE"u8))
            {
                flag = DsnNotify.Failure;
            }
            else if (Ascii.EqualsIgnoreCase(item, "DELAY"u8))
            {
                flag = DsnNotify.Delay;
            }
            else
            {
                return false;
            }

            if ((notify & flag) != 0 || (comma >= 0 && value.IsEmpty))
            {
                return false;
            }

            notify |= flag;
            parts.Add(flag.ToString().ToUpperInvariant());
        }

        text = parts.Count == 0 ? null : string.Join(',', parts);
        return parts.Count > 0;
    }

    private static bool IsAtom(ReadOnlySpan<byte> s)
    {
        foreach (var c in s)
        {
            if (c > 0x7f || !Core.EmailAddress.IsAtext((char)c))
            {
                return false;
            }
        }

        return !s.IsEmpty;
    }

    // Leniency: spaces after the colon ("MAIL FROM: <a@b>") are skipped; several old clients
    // (Outlook Express, some PHP mailers) send them although RFC 5321 §4.1.2 has none.
    private static bool TryStripKeyword(ReadOnlySpan<byte> args, ReadOnlySpan<byte> keyword, out ReadOnlySpan<byte> rest)
    {
        rest = default;
        if (args.Length < keyword.Length || !Ascii.EqualsIgnoreCase(args[..keyword.Length], keyword))
        {
            return false;
        }

        rest = args[keyword.Length..].TrimStart((byte)' ');
        return true;
    }

    private delegate SmtpSyntaxError ParameterHandler(ReadOnlySpan<byte> keyword, ReadOnlySpan<byte> value, bool hasValue);

    // RFC 5321 §4.1.2: esmtp-param = esmtp-keyword ["=" esmtp-value], separated by SP.
    // Leniency: repeated and trailing spaces are skipped (seen from Exchange 2010 and PHPMailer).
    private static void ForEachParameter(ReadOnlySpan<byte> s, ParameterHandler handler, ref SmtpSyntaxError error)
    {
        if (!s.IsEmpty && s[0] != ' ')
        {
            error = SmtpSyntaxError.BadArguments;
            return;
        }

        while (true)
        {
            s = s.TrimStart((byte)' ');
            if (s.IsEmpty)
            {
                return;
            }

            var end = s.IndexOf((byte)' ');
            var token = end < 0 ? s : s[..end];
            s = end < 0 ? [] : s[end..];
            var eq = token.IndexOf((byte)'=');
            var keyword = eq < 0 ? token : token[..eq];
            var value = eq < 0 ? [] : token[(eq + 1)..];
            if (keyword.IsEmpty || !char.IsAsciiLetterOrDigit((char)keyword[0]) ||
                keyword.IndexOfAnyExcept(KeywordChars) >= 0 ||
                (eq >= 0 && (value.IsEmpty || value.IndexOfAnyExcept(ValueChars) >= 0)))
            {
                error = SmtpSyntaxError.BadArguments;
                return;
            }

            var e = handler(keyword, value, eq >= 0);
            if (e != SmtpSyntaxError.None)
            {
                error = e;
                return;
            }
        }
    }

    private static readonly SearchValues<byte> KeywordChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"u8);

    // esmtp-value = 1*(%d33-60 / %d62-126)
    private static readonly SearchValues<byte> ValueChars = SearchValues.Create(
        Enumerable.Range(33, 94).Where(c => c != '=').Select(c => (byte)c).ToArray());

    // RFC 3030 §2: "BDAT" SP chunk-size [SP end-marker]
    private static SmtpReadResult ParseBdat(ReadOnlySpan<byte> args)
    {
        var space = args.IndexOf((byte)' ');
        var number = space < 0 ? args : args[..space];
        var rest = space < 0 ? [] : args[(space + 1)..];
        if (number.IsEmpty || number.Length > 18 || number.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadArguments);
        }

        var size = long.Parse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
        var trimmed = TrimSpaces(rest);
        if (trimmed.IsEmpty)
        {
            return SmtpReadResult.Ok(new SmtpBdatCommand(size, false));
        }

        return Ascii.EqualsIgnoreCase(trimmed, "LAST"u8)
            ? SmtpReadResult.Ok(new SmtpBdatCommand(size, true))
            : SmtpReadResult.Fail(SmtpSyntaxError.BadArguments);
    }

    // RFC 4954 §4: "AUTH" SP sasl-mech [SP initial-response]
    private static SmtpReadResult ParseAuth(ReadOnlySpan<byte> args)
    {
        var space = args.IndexOf((byte)' ');
        var mech = space < 0 ? args : args[..space];
        var initial = space < 0 ? [] : TrimSpaces(args[(space + 1)..]);
        if (mech.IsEmpty || mech.Length > 20 || mech.IndexOfAnyExcept(MechanismChars) >= 0)
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadArguments);
        }

        if (space >= 0 && (initial.IsEmpty || !(initial.SequenceEqual("="u8) || initial.IndexOfAnyExcept(Base64Chars) < 0)))
        {
            return SmtpReadResult.Fail(SmtpSyntaxError.BadArguments);
        }

        var name = Encoding.ASCII.GetString(mech).ToUpperInvariant();
        return SmtpReadResult.Ok(new SmtpAuthCommand(name, space < 0 ? null : Encoding.ASCII.GetString(initial)));
    }

    private static readonly SearchValues<byte> MechanismChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    private static readonly SearchValues<byte> Base64Chars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="u8);
}