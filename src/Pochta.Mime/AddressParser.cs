using System.Text;

using MimeKit;
using MimeKit.Utils;

namespace Pochta.Mime;

/// <summary>
/// A lenient RFC 5322 §3.4 address-list parser producing IMAP ENVELOPE address elements: it keeps
/// display names as they appear (encoded-words intact) beside the decoded form, which MimeKit's
/// address parser does not expose. It never throws: what cannot be parsed is skipped.
/// </summary>
internal static class AddressParser
{
    private const int MaxAddresses = 1000;

    public static List<EnvelopeAddress> Parse(string value, ParserOptions options)
    {
        var result = new List<EnvelopeAddress>();
        var parser = new Cursor(value);
        var inGroup = false;
        while (!parser.AtEnd && result.Count < MaxAddresses)
        {
            parser.SkipCfws();
            if (parser.AtEnd)
            {
                break;
            }

            var c = parser.Peek;
            if (c == ',')
            {
                parser.Advance();
                continue;
            }

            if (c == ';')
            {
                parser.Advance();
                if (inGroup)
                {
                    result.Add(EnvelopeAddress.GroupEnd);
                    inGroup = false;
                }

                continue;
            }

            var words = parser.ReadPhrase();
            parser.SkipCfws();
            var next = parser.AtEnd ? '\0' : parser.Peek;
            switch (next)
            {
                case ':' when !inGroup:
                    {
                        // group = display-name ":" [group-list] ";"
                        parser.Advance();
                        var raw = JoinWords(words);
                        result.Add(EnvelopeAddress.GroupStart(raw, DecodePhrase(raw, options)));
                        inGroup = true;
                        break;
                    }

                case '<':
                    {
                        parser.Advance();
                        var (route, local, domain) = parser.ReadAngleAddr();
                        string? rawName = words.Count == 0 ? null : JoinWords(words);
                        result.Add(new EnvelopeAddress(rawName, rawName is null ? null : DecodePhrase(rawName, options), route, local, domain));
                        break;
                    }

                case '@':
                    {
                        // addr-spec without angle brackets: the words were the local part.
                        parser.Advance();
                        var domain = parser.ReadDomain();
                        result.Add(new EnvelopeAddress(null, null, null, JoinLocal(words), domain));
                        break;
                    }

                default:
                    if (words.Count > 0)
                    {
                        // A local part without domain (e.g. "undisclosed-recipients" without ':;'):
                        // the host is empty, not NIL, so it cannot be taken for a group marker.
                        result.Add(new EnvelopeAddress(null, null, null, JoinLocal(words), string.Empty));
                    }
                    else if (!parser.AtEnd)
                    {
                        // A stray special ('>', '"' leftovers, ':' inside a group): skip it.
                        parser.Advance();
                    }

                    break;
            }
        }

        if (inGroup)
        {
            result.Add(EnvelopeAddress.GroupEnd);
        }

        return result;
    }

    private static string DecodePhrase(string raw, ParserOptions options)
    {
        if (!raw.Contains("=?", StringComparison.Ordinal))
        {
            return raw;
        }

        var bytes = Encoding.UTF8.GetBytes(raw);
        return Rfc2047.DecodePhrase(options, bytes);
    }

    private static string JoinWords(List<Word> words)
    {
        var sb = new StringBuilder();
        foreach (var w in words)
        {
            if (sb.Length > 0 && w.SpaceBefore)
            {
                sb.Append(' ');
            }

            sb.Append(w.Text);
        }

        return sb.ToString();
    }

    private static string JoinLocal(List<Word> words)
    {
        var sb = new StringBuilder();
        foreach (var w in words)
        {
            sb.Append(w.Text);
        }

        return sb.ToString();
    }

    private readonly record struct Word(string Text, bool SpaceBefore);

    private sealed class Cursor(string text)
    {
        private int position;

        public bool AtEnd => position >= text.Length;

        public char Peek => text[position];

        public void Advance() => position++;

        /// <summary>Skips whitespace and (nested) comments.</summary>
        public bool SkipCfws()
        {
            var skipped = false;
            while (position < text.Length)
            {
                var c = text[position];
                if (c is ' ' or '\t' or '\r' or '\n')
                {
                    position++;
                    skipped = true;
                }
                else if (c == '(')
                {
                    SkipComment();
                    skipped = true;
                }
                else
                {
                    break;
                }
            }

            return skipped;
        }

        private void SkipComment()
        {
            var depth = 0;
            while (position < text.Length)
            {
                var c = text[position++];
                if (c == '\\')
                {
                    position++;
                }
                else if (c == '(')
                {
                    depth++;
                }
                else if (c == ')' && --depth == 0)
                {
                    return;
                }
            }
        }

        /// <summary>Reads words (atoms, dots, quoted-strings) up to a special that ends a phrase.</summary>
        public List<Word> ReadPhrase()
        {
            var words = new List<Word>();
            var space = false;
            while (position < text.Length)
            {
                var c = text[position];
                if (c is '<' or '>' or ':' or ';' or ',' or '@')
                {
                    break;
                }

                if (c == '"')
                {
                    words.Add(new Word(ReadQuoted(), space));
                }
                else if (c == '.')
                {
                    // obs-phrase allows '.'; in a local part it joins atoms.
                    position++;
                    words.Add(new Word(".", space));
                }
                else if (c is '[' or ']' or ')' or '\\')
                {
                    // Lenient: specials that cannot start a word are kept as text.
                    position++;
                    words.Add(new Word(c.ToString(), space));
                }
                else
                {
                    words.Add(new Word(ReadAtom(), space));
                }

                space = SkipCfws();
            }

            return words;
        }

        private string ReadAtom()
        {
            var start = position;
            while (position < text.Length)
            {
                var c = text[position];
                if (c is ' ' or '\t' or '\r' or '\n' or '(' or ')' or '<' or '>' or '[' or ']' or ':' or ';' or '@' or '\\' or ',' or '.' or '"')
                {
                    // RFC 2047 encoded-words may contain '.' etc.; keep "=?...?=" whole.
                    if (c == '.' && IsInsideEncodedWord(start))
                    {
                        position++;
                        continue;
                    }

                    break;
                }

                position++;
            }

            return text.AsSpan(start, position - start).ToString();
        }

        private bool IsInsideEncodedWord(int start)
        {
            var atom = text.AsSpan(start, position - start);
            return atom.StartsWith("=?", StringComparison.Ordinal) && !atom.EndsWith("?=", StringComparison.Ordinal);
        }

        private string ReadQuoted()
        {
            position++; // opening quote
            var sb = new StringBuilder();
            while (position < text.Length)
            {
                var c = text[position++];
                if (c == '"')
                {
                    break;
                }

                if (c == '\\' && position < text.Length)
                {
                    c = text[position++];
                }
                else if (c is '\r' or '\n')
                {
                    continue;
                }

                sb.Append(c);
            }

            return sb.ToString();
        }

        /// <summary>After '&lt;': [obs-route] addr-spec '&gt;'.</summary>
        public (string? Route, string? Local, string? Domain) ReadAngleAddr()
        {
            string? route = null;
            SkipCfws();
            if (position < text.Length && text[position] == '@')
            {
                // obs-route = obs-domain-list ":"
                var start = position;
                var colon = text.IndexOf(':', position);
                var close = text.IndexOf('>', position);
                if (colon >= 0 && (close < 0 || colon < close))
                {
                    route = RemoveWhitespace(text.AsSpan(start, colon - start));
                    position = colon + 1;
                }
            }

            SkipCfws();
            var words = ReadPhrase();
            var local = JoinLocal(words);
            string? domain = null;
            if (position < text.Length && text[position] == '@')
            {
                position++;
                domain = ReadDomain();
            }

            SkipCfws();
            if (position < text.Length && text[position] == '>')
            {
                position++;
            }

            if (local.Length == 0 && domain is null)
            {
                // "<>" (null reverse path in some headers): an empty mailbox and host.
                return (route, string.Empty, string.Empty);
            }

            return (route, local, domain ?? string.Empty);
        }

        public string ReadDomain()
        {
            SkipCfws();
            var sb = new StringBuilder();
            while (position < text.Length)
            {
                var c = text[position];
                if (c == '[')
                {
                    var close = text.IndexOf(']', position);
                    var end = close < 0 ? text.Length : close + 1;
                    sb.Append(RemoveWhitespace(text.AsSpan(position, end - position)));
                    position = end;
                }
                else if (c is ',' or ';' or '>' or '<' or ':' or '"' or '@')
                {
                    break;
                }
                else if (c is ' ' or '\t' or '\r' or '\n' or '(')
                {
                    SkipCfws();
                    // A domain continues only across CFWS next to a dot (obs-domain).
                    if (position < text.Length && text[position] == '.')
                    {
                        continue;
                    }

                    if (sb.Length > 0 && sb[^1] == '.')
                    {
                        continue;
                    }

                    break;
                }
                else
                {
                    sb.Append(c);
                    position++;
                }
            }

            return sb.ToString();
        }

        private static string RemoveWhitespace(ReadOnlySpan<char> span)
        {
            var sb = new StringBuilder(span.Length);
            foreach (var c in span)
            {
                if (!char.IsWhiteSpace(c))
                {
                    sb.Append(c);
                }
            }

            return sb.ToString();
        }
    }
}