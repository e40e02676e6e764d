using Pochta.Core;
using Pochta.Imap.Protocol;
using Pochta.Storage;

namespace Pochta.Imap;

/// <summary>
/// The session's view of its selected mailbox (RFC 9051 §2.3.1.2): message sequence numbers map
/// to UIDs by position (sequence number = index + 1), with a flags cache. Other sessions' changes
/// arrive as a signal from the change bus; <see cref="SyncAsync"/> then reads what changed since
/// the last known modseq and reports it with untagged EXISTS / EXPUNGE (or VANISHED) / FETCH,
/// deferring expunges while a command that forbids them runs (RFC 9051 §7.5.1).
/// </summary>
internal sealed class SelectedMailbox : IDisposable
{
    private readonly List<MessageEntry> _messages;
    private readonly HashSet<uint> _recent = [];
    private readonly HashSet<uint> _pendingExpunge = [];
    private readonly IMailboxStore _store;
    private ulong _modSeq;
    private uint _uidNext;
    private int _dirty;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SelectedMailbox(IMailboxStore store, MailboxInfo info, bool readOnly, IReadOnlyList<MessageEntry> messages, ulong modSeq)
    {
        _store = store;
        Info = info;
        ReadOnly = readOnly;
        _messages = [.. messages];
        _modSeq = modSeq;
        _uidNext = Math.Max(info.UidNext, _messages.Count > 0 ? _messages[^1].Uid + 1 : 1);
    }

    public MailboxInfo Info { get; private set; }

    public bool ReadOnly { get; }

    public int Count => _messages.Count;

    public IReadOnlyList<MessageEntry> Messages => _messages;

    public ulong HighestModSeq => Math.Max(_modSeq, Info.HighestModSeq);

    public uint UidNext => _uidNext;

    /// <summary>The entry at 1-based sequence number <paramref name="seq"/>.</summary>
    public MessageEntry this[int seq] => _messages[seq - 1];

    public bool IsRecent(uint uid) => _recent.Contains(uid);

    public int RecentCount => _recent.Count;

    /// <summary>Expunged by another session but not yet reported here (still numbered).</summary>
    public bool IsExpungedPending(uint uid) => _pendingExpunge.Contains(uid);

    public void MarkRecent(uint firstRecentUid)
    {
        foreach (var m in _messages)
        {
            if (m.Uid >= firstRecentUid)
            {
                _recent.Add(m.Uid);
            }
        }
    }

    /// <summary>The sequence number of <paramref name="uid"/>, or 0.</summary>
    public int SeqOf(uint uid)
    {
        int lo = 0, hi = _messages.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var v = _messages[mid].Uid;
            if (v == uid)
            {
                return mid + 1;
            }

            if (v < uid)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return 0;
    }

    /// <summary>Resolves a sequence set (or UID set) to ascending sequence numbers of existing messages.
    /// RFC 9051 §6.4.8: in a UID set, <c>*</c> is the highest UID in use and non-existent UIDs are ignored.</summary>
    public List<int> Resolve(SequenceSet set, bool uid, IReadOnlyList<uint> saved)
    {
        var result = new List<int>();
        if (set.IsSavedResult)
        {
            // RFC 5182 §2.1: $ is the saved UIDs, whichever command uses it.
            foreach (var u in saved)
            {
                var s = SeqOf(u);
                if (s > 0)
                {
                    result.Add(s);
                }
            }

            result.Sort();
            return result;
        }

        if (_messages.Count == 0)
        {
            return result;
        }

        if (!uid)
        {
            var max = (uint)_messages.Count;
            var marks = new bool[_messages.Count + 1];
            foreach (var r in set.Ranges)
            {
                var (low, high) = r.Resolve(max);
                for (var n = low; n <= Math.Min(high, max); n++)
                {
                    marks[n] = true;
                }
            }

            for (var i = 1; i < marks.Length; i++)
            {
                if (marks[i])
                {
                    result.Add(i);
                }
            }

            return result;
        }

        var maxUid = _messages[^1].Uid;
        for (var i = 0; i < _messages.Count; i++)
        {
            if (set.Contains(_messages[i].Uid, maxUid))
            {
                result.Add(i + 1);
            }
        }

        return result;
    }

    /// <summary>True when the set names a sequence number that does not exist (RFC 9051 §6.4.5: BAD).</summary>
    public bool HasInvalidSequenceNumber(SequenceSet set)
    {
        if (set.IsSavedResult)
        {
            return false;
        }

        foreach (var r in set.Ranges)
        {
            if ((r.First != SequenceRange.Star && r.First > _messages.Count) || (r.Last != SequenceRange.Star && r.Last > _messages.Count))
            {
                return true;
            }

            if (_messages.Count == 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Replaces a cached entry after this session changed it (STORE, FETCH's \Seen).</summary>
    public void Update(MessageEntry entry)
    {
        var seq = SeqOf(entry.Uid);
        if (seq > 0)
        {
            _messages[seq - 1] = entry;
        }
    }

    /// <summary>Removes messages this session expunged and reports them (EXPUNGE or VANISHED).</summary>
    public void RemoveExpunged(ImapSession session, IReadOnlyList<uint> uids)
    {
        ReportExpunges(session, uids);
    }

    public void Signal()
    {
        Interlocked.Exchange(ref _dirty, 1);
        _changed.TrySetResult();
    }

    /// <summary>Completes when a change was signalled after the last <see cref="ResetSignal"/>.</summary>
    public Task WaitForChangeAsync() => _changed.Task;

    public void ResetSignal()
    {
        if (_changed.Task.IsCompleted)
        {
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public bool IsDirty => Volatile.Read(ref _dirty) != 0 || _pendingExpunge.Count > 0;

    /// <summary>Reads changes since the last known modseq and writes the untagged updates.
    /// <paramref name="mayExpunge"/> false defers expunges (they stay numbered until allowed).</summary>
    public async Task SyncAsync(ImapSession session, bool mayExpunge, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _dirty, 0) != 0)
        {
            var changes = await _store.GetChangesSinceAsync(Info.Id, _modSeq, cancellationToken);
            var flagUpdates = new List<MessageEntry>();
            var added = new List<MessageEntry>();
            var expunged = new HashSet<uint>(changes.Expunged);
            foreach (var uid in changes.Expunged)
            {
                if (SeqOf(uid) > 0)
                {
                    _pendingExpunge.Add(uid);
                }
            }

            foreach (var e in changes.Changed)
            {
                if (expunged.Contains(e.Uid))
                {
                    continue;
                }

                var seq = SeqOf(e.Uid);
                if (seq > 0)
                {
                    var old = _messages[seq - 1];
                    if (old.ModSeq != e.ModSeq)
                    {
                        _messages[seq - 1] = e;
                        if (old.Flags != e.Flags || !SameKeywords(old.Keywords, e.Keywords) || session.CondStore)
                        {
                            flagUpdates.Add(e);
                        }
                    }
                }
                else if (e.Uid >= _uidNext)
                {
                    added.Add(e);
                }
            }

            _modSeq = Math.Max(_modSeq, changes.HighestModSeq);
            if (mayExpunge)
            {
                FlushExpunges(session);
            }

            if (added.Count > 0)
            {
                added.Sort(static (a, b) => a.Uid.CompareTo(b.Uid));
                _messages.AddRange(added);
                _uidNext = Math.Max(_uidNext, added[^1].Uid + 1);
                if (!session.Rev2 && !ReadOnly)
                {
                    // RFC 3501 §2.3.2: \Recent for exactly one session; claim the new arrivals.
                    MarkRecent(await _store.ClaimRecentAsync(Info.Id, cancellationToken));
                }

                session.Writer.Untagged().Number((long)_messages.Count).Raw(" EXISTS"u8).EndLine();
                if (!session.Rev2)
                {
                    session.Writer.Untagged().Number((long)_recent.Count).Raw(" RECENT"u8).EndLine();
                }
            }

            _uidNext = Math.Max(_uidNext, changes.UidNext);
            foreach (var e in flagUpdates)
            {
                var seq = SeqOf(e.Uid);
                if (seq > 0)
                {
                    WriteFlagsFetch(session, seq, e, includeUid: session.QResync);
                }
            }
        }
        else if (mayExpunge)
        {
            FlushExpunges(session);
        }
    }

    private void FlushExpunges(ImapSession session)
    {
        if (_pendingExpunge.Count == 0)
        {
            return;
        }

        var list = _pendingExpunge.ToList();
        _pendingExpunge.Clear();
        ReportExpunges(session, list);
    }

    private void ReportExpunges(ImapSession session, IReadOnlyList<uint> uids)
    {
        var seqs = new List<int>(uids.Count);
        foreach (var uid in uids)
        {
            var seq = SeqOf(uid);
            if (seq > 0)
            {
                seqs.Add(seq);
            }

            _pendingExpunge.Remove(uid);
        }

        if (seqs.Count == 0)
        {
            return;
        }

        seqs.Sort();
        var removedUids = new List<uint>(seqs.Count);
        if (session.QResync)
        {
            // RFC 7162 §3.2.10: VANISHED replaces EXPUNGE once QRESYNC is enabled.
            for (var i = seqs.Count - 1; i >= 0; i--)
            {
                removedUids.Add(_messages[seqs[i] - 1].Uid);
                _messages.RemoveAt(seqs[i] - 1);
            }

            removedUids.Reverse();
            session.Writer.Untagged().Raw("VANISHED "u8).Ascii(SequenceSet.Format(removedUids)).EndLine();
        }
        else
        {
            // Highest first, so each number is valid when the client applies it.
            for (var i = seqs.Count - 1; i >= 0; i--)
            {
                var uid = _messages[seqs[i] - 1].Uid;
                _messages.RemoveAt(seqs[i] - 1);
                session.Writer.Untagged().Number((long)seqs[i]).Raw(" EXPUNGE"u8).EndLine();
                removedUids.Add(uid);
            }
        }

        foreach (var uid in removedUids)
        {
            _recent.Remove(uid);
        }
    }

    /// <summary><c>* n FETCH (FLAGS (...) [UID u] [MODSEQ (m)])</c>.</summary>
    public void WriteFlagsFetch(ImapSession session, int seq, MessageEntry e, bool includeUid)
    {
        var w = session.Writer;
        w.Untagged().Number((long)seq).Raw(" FETCH ("u8);
        if (includeUid)
        {
            w.Raw("UID "u8).Number((ulong)e.Uid).Space();
        }

        w.Raw("FLAGS "u8);
        WriteFlagList(w, e.Flags, e.Keywords, IsRecent(e.Uid) && !session.Rev2);
        if (session.CondStore)
        {
            w.Raw(" MODSEQ ("u8).Number(e.ModSeq).Raw(")"u8);
        }

        w.Close().EndLine();
    }

    public static void WriteFlagList(ImapResponseWriter w, MessageFlags flags, IReadOnlyList<string> keywords, bool recent)
    {
        w.Open();
        var first = true;
        static void Item(ImapResponseWriter w, ReadOnlySpan<byte> text, ref bool first)
        {
            if (!first)
            {
                w.Space();
            }

            first = false;
            w.Raw(text);
        }

        if ((flags & MessageFlags.Seen) != 0)
        {
            Item(w, "\\Seen"u8, ref first);
        }

        if ((flags & MessageFlags.Answered) != 0)
        {
            Item(w, "\\Answered"u8, ref first);
        }

        if ((flags & MessageFlags.Flagged) != 0)
        {
            Item(w, "\\Flagged"u8, ref first);
        }

        if ((flags & MessageFlags.Deleted) != 0)
        {
            Item(w, "\\Deleted"u8, ref first);
        }

        if ((flags & MessageFlags.Draft) != 0)
        {
            Item(w, "\\Draft"u8, ref first);
        }

        if (recent)
        {
            Item(w, "\\Recent"u8, ref first);
        }

        foreach (var k in keywords)
        {
            // Keywords are atoms by construction (the parser only accepts flag atoms).
            if (!first)
            {
                w.Space();
            }

            first = false;
            w.Ascii(k);
        }

        w.Close();
    }

    public static bool SameKeywords(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var k in a)
        {
            if (!b.Contains(k, StringComparer.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    public void Dispose()
    {
        _changed.TrySetCanceled();
    }
}