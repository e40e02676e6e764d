using Pochta.Core;
using Pochta.Imap.Protocol;
using Pochta.Mime;
using Pochta.Storage;

namespace Pochta.Imap.Search;

/// <summary>One candidate message for SEARCH/SORT/THREAD: its number, entry and (when needed) index.</summary>
internal sealed record Candidate(int Seq, MessageEntry Entry, MessageIndex? Index);

/// <summary>RFC 9051 §6.4.4 search keys evaluated over the selected-mailbox view. Header and text
/// keys use the decoded data stored at delivery (case-insensitive substring, i;unicode-casemap-like).</summary>
internal static class SearchEvaluator
{
    public static bool NeedsIndex(SearchKey key) => key switch
    {
        HeaderKey or TextKey => true,
        DateKey d => d.Kind is DateKeyKind.SentBefore or DateKeyKind.SentOn or DateKeyKind.SentSince,
        NotKey n => NeedsIndex(n.Key),
        OrKey o => NeedsIndex(o.Left) || NeedsIndex(o.Right),
        AndKey a => a.Keys.Any(NeedsIndex),
        _ => false,
    };

    public static bool UsesModSeq(SearchKey key) => key switch
    {
        ModSeqKey => true,
        NotKey n => UsesModSeq(n.Key),
        OrKey o => UsesModSeq(o.Left) || UsesModSeq(o.Right),
        AndKey a => a.Keys.Any(UsesModSeq),
        _ => false,
    };

    /// <summary>The candidates matching <paramref name="key"/>, ascending by sequence number.</summary>
    public static async Task<List<Candidate>> RunAsync(ImapSession session, SearchKey key, bool loadIndex, CancellationToken cancellationToken)
    {
        var view = session.Selected!;
        var needsIndex = loadIndex || NeedsIndex(key);
        var maxUid = view.Count > 0 ? view[view.Count].Uid : 0;
        var saved = new HashSet<uint>(session.SavedSearch);
        var text = HasText(key);
        if (text && view.Count >= ParallelTextThreshold)
        {
            return await RunTextInParallelAsync(session, key, view, maxUid, saved, cancellationToken);
        }

        var result = new List<Candidate>();
        for (var seq = 1; seq <= view.Count; seq++)
        {
            var entry = view[seq];
            if (!view.IsExpungedPending(entry.Uid)
                && await EvaluateAsync(session, key, view, seq, entry, needsIndex, text, maxUid, saved, cancellationToken) is { } c)
            {
                result.Add(c);
            }
        }

        return result;
    }

    /// <summary>One message: its index when the key needs it, and the candidate when it matches;
    /// null when it does not match or was expunged meanwhile.</summary>
    private static async ValueTask<Candidate?> EvaluateAsync(ImapSession session, SearchKey key, SelectedMailbox view, int seq, MessageEntry entry, bool needsIndex, bool text, uint maxUid, HashSet<uint> saved, CancellationToken cancellationToken)
    {
        MessageIndex? index = null;
        if (needsIndex)
        {
            try
            {
                // Body text is large and read only for TEXT/BODY; everything else comes from
                // the shared cache of decoded indexes.
                if (text)
                {
                    var data = await session.Store.Messages.GetIndexAsync(entry.MessageId, cancellationToken);
                    index = MessageIndexSerializer.Deserialize(data.Span, includeBodyText: true);
                }
                else
                {
                    index = await session.Services.Cache.GetIndexAsync(session.Store.Messages, entry.MessageId, cancellationToken);
                }
            }
            catch (StoreNotFoundException)
            {
                return null;
            }
        }

        var c = new Candidate(seq, entry, index);
        return Matches(key, c, view, (uint)view.Count, maxUid, saved, session.Rev2) ? c : null;
    }

    /// <summary>Below this many messages a TEXT/BODY search runs on the session's own thread.</summary>
    private const int ParallelTextThreshold = 512;

    /// <summary>TEXT/BODY over a large mailbox: reading and decoding each message's body text
    /// dominates, and each message is independent, so the work is spread over the cores. The
    /// view is not changed during a command (untagged updates wait for its end, RFC 9051
    /// §7.4.1), so concurrent reads of it are safe. Results keep ascending sequence order.</summary>
    private static async Task<List<Candidate>> RunTextInParallelAsync(ImapSession session, SearchKey key, SelectedMailbox view, uint maxUid, HashSet<uint> saved, CancellationToken cancellationToken)
    {
        var count = view.Count;
        var entries = new MessageEntry?[count];
        for (var seq = 1; seq <= count; seq++)
        {
            var entry = view[seq];
            entries[seq - 1] = view.IsExpungedPending(entry.Uid) ? null : entry;
        }

        var matches = new Candidate?[count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken };
        await Parallel.ForAsync(0, count, options, async (i, token) =>
        {
            if (entries[i] is { } entry)
            {
                matches[i] = await EvaluateAsync(session, key, view, i + 1, entry, needsIndex: true, text: true, maxUid, saved, token);
            }
        });

        return [.. matches.OfType<Candidate>()];
    }

    private static bool HasText(SearchKey key) => key switch
    {
        TextKey => true,
        NotKey n => HasText(n.Key),
        OrKey o => HasText(o.Left) || HasText(o.Right),
        AndKey a => a.Keys.Any(HasText),
        _ => false,
    };

    private static bool Matches(SearchKey key, Candidate c, SelectedMailbox view, uint count, uint maxUid, HashSet<uint> saved, bool rev2)
    {
        var e = c.Entry;
        switch (key)
        {
            case AllKey:
                return true;
            case FlagKey f:
                return ((e.Flags & f.Flag) != 0) == f.IsSet;
            case KeywordKey k:
                return e.Keywords.Contains(k.Keyword, StringComparer.OrdinalIgnoreCase) == k.IsSet;
            case SessionFlagKey s:
                var recent = !rev2 && view.IsRecent(e.Uid);
                return s.Kind switch
                {
                    SessionFlagKind.Recent => recent,
                    SessionFlagKind.Old => !recent,
                    _ => recent && (e.Flags & MessageFlags.Seen) == 0,
                };
            case DateKey d:
                DateOnly day;
                if (d.Kind is DateKeyKind.Before or DateKeyKind.On or DateKeyKind.Since)
                {
                    // RFC 9051 §6.4.4: internal date, disregarding time and timezone.
                    day = DateOnly.FromDateTime(e.InternalDate.DateTime);
                }
                else if (c.Index?.Search.SentDate is { } sent)
                {
                    day = DateOnly.FromDateTime(sent.DateTime);
                }
                else
                {
                    return false;
                }

                return d.Kind switch
                {
                    DateKeyKind.Before or DateKeyKind.SentBefore => day < d.Date,
                    DateKeyKind.On or DateKeyKind.SentOn => day == d.Date,
                    _ => day >= d.Date,
                };
            case HeaderKey h:
                foreach (var field in c.Index!.Search.Headers)
                {
                    if (string.Equals(field.Name, h.Field, StringComparison.OrdinalIgnoreCase)
                        && (h.Value.Length == 0 || field.Value.Contains(h.Value, StringComparison.OrdinalIgnoreCase)))
                    {
                        return true;
                    }
                }

                return false;
            case TextKey t:
                if (c.Index!.Search.BodyText.Contains(t.Value, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                if (t.IncludeHeader)
                {
                    foreach (var field in c.Index.Search.Headers)
                    {
                        if (field.Value.Contains(t.Value, StringComparison.OrdinalIgnoreCase) || field.Name.Contains(t.Value, StringComparison.OrdinalIgnoreCase))
                        {
                            return true;
                        }
                    }
                }

                return false;
            case SizeKey z:
                return z.Larger ? e.Size > z.Size : e.Size < z.Size;
            case SequenceSetKey s:
                if (s.Set.IsSavedResult)
                {
                    return saved.Contains(e.Uid);
                }

                return s.IsUid ? s.Set.Contains(e.Uid, maxUid) : s.Set.Contains((uint)c.Seq, count);
            case ModSeqKey m:
                return e.ModSeq >= m.ModSeq;
            case NotKey n:
                return !Matches(n.Key, c, view, count, maxUid, saved, rev2);
            case OrKey o:
                return Matches(o.Left, c, view, count, maxUid, saved, rev2) || Matches(o.Right, c, view, count, maxUid, saved, rev2);
            case AndKey a:
                foreach (var k in a.Keys)
                {
                    if (!Matches(k, c, view, count, maxUid, saved, rev2))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>RFC 9051 §6.4.4: UTF-8 and US-ASCII must be supported; other charsets get BADCHARSET.</summary>
    public static bool IsSupportedCharset(string? charset) =>
        charset is null || string.Equals(charset, "UTF-8", StringComparison.OrdinalIgnoreCase) || string.Equals(charset, "US-ASCII", StringComparison.OrdinalIgnoreCase);
}