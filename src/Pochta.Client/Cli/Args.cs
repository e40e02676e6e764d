using System.Globalization;

using MailKit;

using MimeKit;

namespace Pochta.Client.Cli;

/// <summary>Parsing of user-typed values: message ids (IMAP UIDs), address lists, flags.</summary>
internal static class Args
{
    private static readonly System.Buffers.SearchValues<char> AtomSpecials = System.Buffers.SearchValues.Create("(){ %*\"\\]");

    /// <summary>UIDs as <c>7</c>, <c>3,5,9</c> or <c>10:12</c>, in any number of arguments.</summary>
    public static IList<UniqueId> ParseUids(IEnumerable<string>? values)
    {
        var result = new List<UniqueId>();
        foreach (var value in values ?? [])
        {
            foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var colon = item.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0)
                {
                    result.Add(new UniqueId(ParseUid(item)));
                    continue;
                }

                var first = ParseUid(item[..colon]);
                var last = ParseUid(item[(colon + 1)..]);
                if (last < first || last - first > 100_000)
                {
                    throw ClientException.Usage($"bad message range {item}");
                }

                for (var uid = first; uid <= last; uid++)
                {
                    result.Add(new UniqueId(uid));
                }
            }
        }

        return result.Count == 0 ? throw ClientException.Usage("no message id given") : result.Distinct().ToList();
    }

    public static uint ParseUid(string text) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) && uid > 0
            ? uid
            : throw ClientException.Usage($"bad message id {text} (use the number shown by 'list')");

    /// <summary>Addresses from repeated or comma-separated options (RFC 5322 address-list).</summary>
    public static List<InternetAddress> ParseAddresses(IEnumerable<string>? values)
    {
        var result = new List<InternetAddress>();
        foreach (var value in values ?? [])
        {
            if (!InternetAddressList.TryParse(value, out var list) || list.Count == 0)
            {
                throw ClientException.Usage($"bad address {value}");
            }

            result.AddRange(list);
        }

        return result;
    }

    /// <summary>seen, answered, flagged, deleted, draft (system flags) or a keyword.</summary>
    public static (MessageFlags Flags, List<string> Keywords) ParseFlags(IEnumerable<string>? values)
    {
        var flags = MessageFlags.None;
        var keywords = new List<string>();
        foreach (var value in values ?? [])
        {
            var name = value.TrimStart('\\');
            switch (name.ToUpperInvariant())
            {
                case "SEEN" or "READ":
                    flags |= MessageFlags.Seen;
                    break;
                case "ANSWERED":
                    flags |= MessageFlags.Answered;
                    break;
                case "FLAGGED":
                    flags |= MessageFlags.Flagged;
                    break;
                case "DELETED":
                    flags |= MessageFlags.Deleted;
                    break;
                case "DRAFT":
                    flags |= MessageFlags.Draft;
                    break;
                default:
                    // RFC 9051 §9 flag-keyword = atom: no specials, no '\'.
                    if (name.Length == 0 || value.StartsWith('\\') || name.AsSpan().IndexOfAny(AtomSpecials) >= 0
                        || name.AsSpan().ContainsAnyExceptInRange('\u0021', '\u007E'))
                    {
                        throw ClientException.Usage($"bad flag {value}");
                    }

                    keywords.Add(name);
                    break;
            }
        }

        return (flags, keywords);
    }

    public static string[] FlagNames(MessageFlags flags, IEnumerable<string>? keywords)
    {
        var names = new List<string>();
        foreach (var (flag, name) in new[]
        {
            (MessageFlags.Seen, "seen"), (MessageFlags.Answered, "answered"), (MessageFlags.Flagged, "flagged"),
            (MessageFlags.Deleted, "deleted"), (MessageFlags.Draft, "draft"),
        })
        {
            if (flags.HasFlag(flag))
            {
                names.Add(name);
            }
        }

        names.AddRange(keywords ?? []);
        return [.. names];
    }
}