using Pochta.Core;

namespace Pochta.Imap;

/// <summary>Mailbox naming rules (RFC 9051 §5.1): delimiter "/", INBOX case-insensitive, and the
/// LIST wildcard matcher (RFC 9051 §6.3.9: "*" matches anything, "%" anything but the delimiter).</summary>
internal static class MailboxNames
{
    public const char Delimiter = '/';

    /// <summary>Canonical stored form: INBOX (and INBOX/...) upper-cased prefix, trailing delimiter removed.</summary>
    public static string Normalize(string name)
    {
        if (name.Length > 1 && name[^1] == Delimiter)
        {
            // RFC 9051 §6.3.4: a trailing delimiter only says the client intends to create inferiors.
            name = name.TrimEnd(Delimiter);
        }

        if (name.Length >= 5 && name.AsSpan(0, 5).Equals("INBOX", StringComparison.OrdinalIgnoreCase) && (name.Length == 5 || name[5] == Delimiter))
        {
            name = string.Concat("INBOX", name.AsSpan(5));
        }

        return name;
    }

    /// <summary>A name a client may create: non-empty components, no wildcards, no control characters.</summary>
    public static bool IsValidNew(string name)
    {
        if (name.Length == 0 || name.Length > 512 || name[0] == Delimiter)
        {
            return false;
        }

        var previous = '\0';
        foreach (var ch in name)
        {
            if (ch is '*' or '%' || char.IsControl(ch) || (ch == Delimiter && previous == Delimiter))
            {
                return false;
            }

            previous = ch;
        }

        return true;
    }

    public static string? Parent(string name)
    {
        var i = name.LastIndexOf(Delimiter);
        return i <= 0 ? null : name[..i];
    }

    /// <summary>The superior names of <paramref name="name"/>, outermost first.</summary>
    public static IEnumerable<string> Ancestors(string name)
    {
        for (var i = name.IndexOf(Delimiter); i > 0; i = name.IndexOf(Delimiter, i + 1))
        {
            yield return name[..i];
        }
    }

    /// <summary>Matches a LIST pattern against a name. A pattern beginning with INBOX matches INBOX case-insensitively.</summary>
    public static bool Matches(string pattern, string name)
    {
        pattern = Normalize(pattern.Length > 1 && pattern[^1] == Delimiter ? pattern + "\0" : pattern).Replace("\0", string.Empty, StringComparison.Ordinal);
        return Match(pattern.AsSpan(), name.AsSpan());
    }

    /// <summary>Glob match in O(pattern × name) time: the set of name positions reachable after
    /// each pattern character (no backtracking, so hostile patterns cannot blow up).</summary>
    private static bool Match(ReadOnlySpan<char> p, ReadOnlySpan<char> n)
    {
        var reach = new bool[n.Length + 1];
        var next = new bool[n.Length + 1];
        reach[0] = true;
        foreach (var c in p)
        {
            Array.Clear(next);
            var any = false;
            if (c == '*')
            {
                for (var j = 0; j <= n.Length; j++)
                {
                    any |= reach[j];
                    next[j] = any;
                }
            }
            else if (c == '%')
            {
                for (var j = 0; j <= n.Length; j++)
                {
                    if (j > 0 && n[j - 1] == Delimiter)
                    {
                        any = false;
                    }

                    any |= reach[j];
                    next[j] = any;
                }
            }
            else
            {
                for (var j = 0; j < n.Length; j++)
                {
                    if (reach[j] && n[j] == c)
                    {
                        next[j + 1] = true;
                        any = true;
                    }
                }

                if (!any)
                {
                    return false;
                }
            }

            (reach, next) = (next, reach);
        }

        return reach[n.Length];
    }

    public static string? SpecialUseAttribute(SpecialUse use) => use switch
    {
        SpecialUse.Drafts => "\\Drafts",
        SpecialUse.Sent => "\\Sent",
        SpecialUse.Junk => "\\Junk",
        SpecialUse.Trash => "\\Trash",
        SpecialUse.Archive => "\\Archive",
        SpecialUse.All => "\\All",
        SpecialUse.Flagged => "\\Flagged",
        _ => null,
    };

    public static SpecialUse? ParseSpecialUse(string attribute) => attribute.ToUpperInvariant() switch
    {
        "\\DRAFTS" => SpecialUse.Drafts,
        "\\SENT" => SpecialUse.Sent,
        "\\JUNK" => SpecialUse.Junk,
        "\\TRASH" => SpecialUse.Trash,
        "\\ARCHIVE" => SpecialUse.Archive,
        "\\ALL" => SpecialUse.All,
        "\\FLAGGED" => SpecialUse.Flagged,
        _ => null,
    };
}