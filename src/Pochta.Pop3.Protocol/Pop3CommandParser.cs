namespace Pochta.Pop3.Protocol;

/// <summary>Parses one command line (without CRLF) into a typed command (RFC 1939 §3, RFC 2449 §3).</summary>
public static class Pop3CommandParser
{
    public static Pop3ReadResult Parse(ReadOnlySpan<byte> line)
    {
        var space = line.IndexOf((byte)' ');
        var keyword = space < 0 ? line : line[..space];
        var kind = MatchKeyword(keyword);
        if (kind is not { } k)
        {
            return Pop3ReadResult.Fail(Pop3ReadError.UnknownCommand);
        }

        var arguments = space < 0 ? [] : line[(space + 1)..];
        var tokens = new Tokenizer(arguments);
        switch (k)
        {
            case Pop3CommandKind.Stat or Pop3CommandKind.Noop or Pop3CommandKind.Rset or Pop3CommandKind.Quit
                or Pop3CommandKind.Capa or Pop3CommandKind.Stls or Pop3CommandKind.Utf8:
                return tokens.AtEnd ? Ok(new SimpleCommand(k)) : Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);

            case Pop3CommandKind.User:
                {
                    if (!tokens.Next(out var name) || !tokens.AtEnd)
                    {
                        return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                    }

                    return Pop3CommandReader.DecodeText(name) is { } text ? Ok(new UserCommand(text)) : Pop3ReadResult.Fail(Pop3ReadError.InvalidEncoding, k);
                }

            case Pop3CommandKind.Pass:
                {
                    // RFC 1939 §7: PASS has exactly one argument, so spaces belong to the password.
                    if (arguments.IsEmpty)
                    {
                        return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                    }

                    return Pop3CommandReader.DecodeText(arguments) is { } text ? Ok(new PassCommand(text)) : Pop3ReadResult.Fail(Pop3ReadError.InvalidEncoding, k);
                }

            case Pop3CommandKind.Apop:
                {
                    if (!tokens.Next(out var name) || !tokens.Next(out var digest) || !tokens.AtEnd)
                    {
                        return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                    }

                    var nameText = Pop3CommandReader.DecodeText(name);
                    var digestText = Pop3CommandReader.DecodeText(digest);
                    return nameText is null || digestText is null
                        ? Pop3ReadResult.Fail(Pop3ReadError.InvalidEncoding, k)
                        : Ok(new ApopCommand(nameText, digestText));
                }

            case Pop3CommandKind.Auth:
                {
                    if (!tokens.Next(out var mechanism))
                    {
                        // Bare AUTH: the RFC 1734 era listing some clients (Outlook) still send.
                        return Ok(new AuthCommand(null, null));
                    }

                    if (!IsMechanismName(mechanism))
                    {
                        return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                    }

                    string? initial = null;
                    if (tokens.Next(out var response))
                    {
                        if (!IsBase64OrEquals(response))
                        {
                            return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                        }

                        initial = System.Text.Encoding.ASCII.GetString(response);
                    }

                    if (!tokens.AtEnd)
                    {
                        return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                    }

                    return Ok(new AuthCommand(System.Text.Encoding.ASCII.GetString(mechanism).ToUpperInvariant(), initial));
                }

            case Pop3CommandKind.List or Pop3CommandKind.Uidl:
                {
                    if (!tokens.Next(out var number))
                    {
                        return Ok(new ListingCommand(k, null));
                    }

                    if (!tokens.AtEnd)
                    {
                        return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                    }

                    return TryNumber(number, 1, out var n) ? Ok(new ListingCommand(k, n)) : Pop3ReadResult.Fail(Pop3ReadError.InvalidNumber, k);
                }

            case Pop3CommandKind.Retr or Pop3CommandKind.Dele:
                {
                    if (!tokens.Next(out var number) || !tokens.AtEnd)
                    {
                        return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                    }

                    return TryNumber(number, 1, out var n) ? Ok(new MessageCommand(k, n)) : Pop3ReadResult.Fail(Pop3ReadError.InvalidNumber, k);
                }

            case Pop3CommandKind.Top:
                {
                    if (!tokens.Next(out var number) || !tokens.Next(out var lines) || !tokens.AtEnd)
                    {
                        return Pop3ReadResult.Fail(Pop3ReadError.Syntax, k);
                    }

                    // RFC 1939 §7: n is a non-negative number of body lines.
                    return TryNumber(number, 1, out var n) && TryNumber(lines, 0, out var l)
                        ? Ok(new TopCommand(n, l))
                        : Pop3ReadResult.Fail(Pop3ReadError.InvalidNumber, k);
                }

            default:
                return Pop3ReadResult.Fail(Pop3ReadError.UnknownCommand);
        }
    }

    /// <summary>RFC 1939 §3 keywords are case-insensitive, three or four characters.</summary>
    public static Pop3CommandKind? MatchKeyword(ReadOnlySpan<byte> keyword)
    {
        if (keyword.Length is < 3 or > 4)
        {
            return null;
        }

        Span<byte> upper = stackalloc byte[4];
        for (var i = 0; i < keyword.Length; i++)
        {
            var b = keyword[i];
            upper[i] = b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b;
        }

        var key = upper[..keyword.Length];
        return key switch
        {
            _ when key.SequenceEqual("USER"u8) => Pop3CommandKind.User,
            _ when key.SequenceEqual("PASS"u8) => Pop3CommandKind.Pass,
            _ when key.SequenceEqual("APOP"u8) => Pop3CommandKind.Apop,
            _ when key.SequenceEqual("AUTH"u8) => Pop3CommandKind.Auth,
            _ when key.SequenceEqual("STAT"u8) => Pop3CommandKind.Stat,
            _ when key.SequenceEqual("LIST"u8) => Pop3CommandKind.List,
            _ when key.SequenceEqual("RETR"u8) => Pop3CommandKind.Retr,
            _ when key.SequenceEqual("DELE"u8) => Pop3CommandKind.Dele,
            _ when key.SequenceEqual("NOOP"u8) => Pop3CommandKind.Noop,
            _ when key.SequenceEqual("RSET"u8) => Pop3CommandKind.Rset,
            _ when key.SequenceEqual("TOP"u8) => Pop3CommandKind.Top,
            _ when key.SequenceEqual("UIDL"u8) => Pop3CommandKind.Uidl,
            _ when key.SequenceEqual("QUIT"u8) => Pop3CommandKind.Quit,
            _ when key.SequenceEqual("CAPA"u8) => Pop3CommandKind.Capa,
            _ when key.SequenceEqual("STLS"u8) => Pop3CommandKind.Stls,
            _ when key.SequenceEqual("UTF8"u8) => Pop3CommandKind.Utf8,
            _ => null,
        };
    }

    private static Pop3ReadResult Ok(Pop3Command command) => new(Pop3ReadStatus.Command, command, command.Kind, Pop3ReadError.None);

    /// <summary>Decimal digits only, value in [min, int.MaxValue]; leading zeros allowed.</summary>
    private static bool TryNumber(ReadOnlySpan<byte> digits, int min, out int value)
    {
        value = 0;
        if (digits.IsEmpty)
        {
            return false;
        }

        long accumulated = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            accumulated = (accumulated * 10) + (b - '0');
            if (accumulated > int.MaxValue)
            {
                return false;
            }
        }

        value = (int)accumulated;
        return value >= min;
    }

    /// <summary>RFC 4422 §3.1 mechanism names: 1-20 of A-Z, 0-9, '-' and '_' (either case here).</summary>
    private static bool IsMechanismName(ReadOnlySpan<byte> name)
    {
        if (name.Length is < 1 or > 20)
        {
            return false;
        }

        foreach (var b in name)
        {
            if (!(b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 5034 §4: the initial response is base64, or a single <c>=</c> for an empty one.</summary>
    private static bool IsBase64OrEquals(ReadOnlySpan<byte> text)
    {
        if (text.Length == 1 && text[0] == (byte)'=')
        {
            return true;
        }

        return System.Buffers.Text.Base64.IsValid(text);
    }

    /// <summary>Splits arguments at spaces. RFC 1939 §3 separates them by a single space; runs of
    /// spaces and trailing spaces are tolerated (leniency for hand-typed sessions).</summary>
    private ref struct Tokenizer(ReadOnlySpan<byte> text)
    {
        private ReadOnlySpan<byte> _rest = text;

        public readonly bool AtEnd => _rest.TrimStart((byte)' ').IsEmpty;

        public bool Next(out ReadOnlySpan<byte> token)
        {
            _rest = _rest.TrimStart((byte)' ');
            if (_rest.IsEmpty)
            {
                token = default;
                return false;
            }

            var end = _rest.IndexOf((byte)' ');
            token = end < 0 ? _rest : _rest[..end];
            _rest = end < 0 ? [] : _rest[end..];
            return true;
        }
    }
}