using System.Globalization;

using MailKit.Search;

namespace Pochta.Client.Cli;

/// <summary>Turns <c>from:ann subject:"q3 report" since:2025-01-01 unread budget</c> into an IMAP
/// SEARCH: every term must hold (AND).</summary>
internal static class SearchQueryParser
{
    public static SearchQuery Parse(IReadOnlyList<string> terms)
    {
        SearchQuery? query = null;
        foreach (var term in terms)
        {
            if (string.IsNullOrWhiteSpace(term))
            {
                continue;
            }

            var next = ParseTerm(term.Trim());
            query = query is null ? next : query.And(next);
        }

        return query ?? throw ClientException.Usage("empty search");
    }

    private static SearchQuery ParseTerm(string term)
    {
        var colon = term.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            var key = term[..colon].ToUpperInvariant();
            var value = term[(colon + 1)..];
            SearchQuery? keyed = key switch
            {
                "FROM" => SearchQuery.FromContains(Required(term, value)),
                "TO" => SearchQuery.ToContains(Required(term, value)),
                "CC" => SearchQuery.CcContains(Required(term, value)),
                "SUBJECT" => SearchQuery.SubjectContains(Required(term, value)),
                "BODY" => SearchQuery.BodyContains(Required(term, value)),
                "SINCE" => SearchQuery.DeliveredAfter(Date(term, value)), // IMAP SINCE: on or after
                "BEFORE" => SearchQuery.DeliveredBefore(Date(term, value)),
                "ON" => SearchQuery.DeliveredOn(Date(term, value)),
                "LARGER" => SearchQuery.LargerThan(Size(term, value)),
                "SMALLER" => SearchQuery.SmallerThan(Size(term, value)),
                _ => null,
            };
            if (keyed is not null)
            {
                return keyed;
            }
        }

        return term.ToUpperInvariant() switch
        {
            "UNREAD" => SearchQuery.NotSeen,
            "READ" => SearchQuery.Seen,
            "FLAGGED" => SearchQuery.Flagged,
            "UNFLAGGED" => SearchQuery.NotFlagged,
            "ANSWERED" => SearchQuery.Answered,
            "DELETED" => SearchQuery.Deleted,
            _ => SearchQuery.MessageContains(term),
        };
    }

    private static string Required(string term, string value) =>
        value.Length == 0 ? throw ClientException.Usage($"empty search term {term}") : value;

    private static DateTime Date(string term, string value) =>
        DateTime.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw ClientException.Usage($"bad date in {term} (use YYYY-MM-DD)");

    private static int Size(string term, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            ? size
            : throw ClientException.Usage($"bad size in {term}");
}