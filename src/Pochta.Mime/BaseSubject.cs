namespace Pochta.Mime;

/// <summary>RFC 5256 §2.1 base subject extraction (SORT SUBJECT, THREAD=ORDEREDSUBJECT/REFERENCES).</summary>
public static class BaseSubject
{
    /// <summary>
    /// Extracts the base subject from a decoded subject. The result keeps the case of the input;
    /// callers compare base subjects with i;ascii-casemap (RFC 5256 §2.1 step 6 notes that
    /// comparisons are case-insensitive), e.g. <see cref="StringComparer.OrdinalIgnoreCase"/>.
    /// </summary>
    public static string Extract(string? subject)
    {
        if (string.IsNullOrEmpty(subject))
        {
            return string.Empty;
        }

        // (1) Convert any RFC 2047 encoded-words (done by the caller) and reduce whitespace runs
        // to a single space.
        var s = HeaderText.CollapseWhitespace(subject);
        while (true)
        {
            // (2) Remove all trailing text of the subject that matches subj-trailer
            // ("(fwd)" / WSP), repeatedly.
            s = RemoveTrailers(s);

            // (3)-(5) Remove subj-leader and subj-blob prefixes until nothing changes.
            while (true)
            {
                var before = s;
                s = RemoveLeaders(s);
                s = RemoveBlob(s);
                if (ReferenceEquals(before, s) || before == s)
                {
                    break;
                }
            }

            // (6) If the subject is subj-fwd-hdr subject subj-fwd-trl ("[fwd:" ... "]"), remove
            // them and go back to (2).
            if (s.Length >= 6 && s.StartsWith("[fwd:", StringComparison.OrdinalIgnoreCase) && s[^1] == ']')
            {
                s = s.AsSpan(5, s.Length - 6).ToString();
                continue;
            }

            return s;
        }
    }

    private static string RemoveTrailers(string s)
    {
        var span = s.AsSpan();
        while (true)
        {
            if (span.Length > 0 && span[^1] == ' ')
            {
                span = span[..^1];
            }
            else if (span.EndsWith("(fwd)", StringComparison.OrdinalIgnoreCase))
            {
                span = span[..^5];
            }
            else
            {
                break;
            }
        }

        return span.Length == s.Length ? s : span.ToString();
    }

    /// <summary>subj-leader = (*subj-blob subj-refwd) / WSP;
    /// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"</summary>
    private static string RemoveLeaders(string s)
    {
        var span = s.AsSpan();
        while (true)
        {
            if (span.Length > 0 && span[0] == ' ')
            {
                span = span[1..];
                continue;
            }

            var i = 0;
            while (TrySkipBlob(span, ref i))
            {
            }

            if (TrySkipRefwd(span, ref i))
            {
                span = span[i..];
                continue;
            }

            break;
        }

        return span.Length == s.Length ? s : span.ToString();
    }

    /// <summary>(4) If there is prefix text that matches subj-blob, and removing it leaves a
    /// non-empty subj-base, remove it.</summary>
    private static string RemoveBlob(string s)
    {
        var span = s.AsSpan();
        var i = 0;
        if (!TrySkipBlob(span, ref i))
        {
            return s;
        }

        var rest = span[i..].Trim(' ');
        return rest.IsEmpty ? s : span[i..].ToString();
    }

    /// <summary>subj-blob = "[" *BLOBCHAR "]" *WSP; BLOBCHAR = any CHAR except "[" and "]".</summary>
    private static bool TrySkipBlob(ReadOnlySpan<char> span, ref int i)
    {
        if (i >= span.Length || span[i] != '[')
        {
            return false;
        }

        var j = i + 1;
        while (j < span.Length && span[j] is not ('[' or ']'))
        {
            j++;
        }

        if (j >= span.Length || span[j] != ']')
        {
            return false;
        }

        j++;
        while (j < span.Length && span[j] == ' ')
        {
            j++;
        }

        i = j;
        return true;
    }

    private static bool TrySkipRefwd(ReadOnlySpan<char> span, ref int i)
    {
        var j = i;
        if (Matches(span, j, "re"))
        {
            j += 2;
        }
        else if (Matches(span, j, "fwd"))
        {
            j += 3;
        }
        else if (Matches(span, j, "fw"))
        {
            j += 2;
        }
        else
        {
            return false;
        }

        while (j < span.Length && span[j] == ' ')
        {
            j++;
        }

        TrySkipBlob(span, ref j);
        if (j < span.Length && span[j] == ':')
        {
            i = j + 1;
            return true;
        }

        return false;
    }

    private static bool Matches(ReadOnlySpan<char> span, int at, string word) =>
        at + word.Length <= span.Length && span.Slice(at, word.Length).Equals(word, StringComparison.OrdinalIgnoreCase);

}