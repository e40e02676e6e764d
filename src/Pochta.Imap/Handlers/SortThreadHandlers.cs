using System.Text;

using Pochta.Imap.Protocol;
using Pochta.Imap.Search;
using Pochta.Mime;

namespace Pochta.Imap.Handlers;

/// <summary>RFC 5256 SORT (and RFC 5957 DISPLAYFROM/DISPLAYTO): search, then order by the criteria;
/// ties by sequence number. Strings compare with i;ascii-casemap.</summary>
internal sealed class SortHandler : CommandHandler<SortCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, SortCommand command, CancellationToken cancellationToken)
    {
        if (!SearchEvaluator.IsSupportedCharset(command.Charset))
        {
            return CommandResult.No("Unsupported charset", "BADCHARSET (UTF-8 US-ASCII)");
        }

        if (command.ReturnOptions is not null)
        {
            return CommandResult.Bad("SORT RETURN is not supported");
        }

        var matches = await SearchEvaluator.RunAsync(session, command.SearchCriteria, true, cancellationToken);
        matches.Sort((a, b) =>
        {
            foreach (var criterion in command.Criteria)
            {
                var c = Compare(criterion.Key, a, b);
                if (c != 0)
                {
                    return criterion.Reverse ? -c : c;
                }
            }

            return a.Seq.CompareTo(b.Seq);
        });

        var w = session.Writer.Untagged().Raw("SORT"u8);
        foreach (var m in matches)
        {
            w.Space().Number((ulong)(command.Uid ? m.Entry.Uid : (uint)m.Seq));
        }

        w.EndLine();
        return CommandResult.Ok(command.Name + " completed");
    }

    private static int Compare(SortKey key, Candidate a, Candidate b) => key switch
    {
        SortKey.Arrival => a.Entry.InternalDate.CompareTo(b.Entry.InternalDate),
        SortKey.Date => SentDate(a).CompareTo(SentDate(b)),
        SortKey.Size => a.Entry.Size.CompareTo(b.Entry.Size),
        SortKey.Subject => string.CompareOrdinal(a.Index!.Search.BaseSubject.ToUpperInvariant(), b.Index!.Search.BaseSubject.ToUpperInvariant()),
        SortKey.From => Ci(FirstMailbox(a.Index!.Envelope.From), FirstMailbox(b.Index!.Envelope.From)),
        SortKey.To => Ci(FirstMailbox(a.Index!.Envelope.To), FirstMailbox(b.Index!.Envelope.To)),
        SortKey.Cc => Ci(FirstMailbox(a.Index!.Envelope.Cc), FirstMailbox(b.Index!.Envelope.Cc)),
        SortKey.DisplayFrom => Ci(Display(a.Index!.Envelope.From), Display(b.Index!.Envelope.From)),
        _ => Ci(Display(a.Index!.Envelope.To), Display(b.Index!.Envelope.To)),
    };

    /// <summary>RFC 5256 §2.2: the Date header, or the internal date when absent or invalid.</summary>
    internal static DateTimeOffset SentDate(Candidate c) => c.Index?.Search.SentDate ?? c.Entry.InternalDate;

    private static int Ci(string a, string b) => string.Compare(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>RFC 5256 §3: the addr-mailbox of the first address.</summary>
    private static string FirstMailbox(IReadOnlyList<EnvelopeAddress>? list) =>
        list?.FirstOrDefault(x => x.Host is not null)?.Mailbox ?? string.Empty;

    /// <summary>RFC 5957 §3: the decoded display name, else the addr-spec.</summary>
    private static string Display(IReadOnlyList<EnvelopeAddress>? list)
    {
        var a = list?.FirstOrDefault(x => x.Host is not null);
        return a is null ? string.Empty : !string.IsNullOrEmpty(a.Name) ? a.Name : a.Address ?? string.Empty;
    }
}

/// <summary>RFC 5256 THREAD=ORDEREDSUBJECT and THREAD=REFERENCES over the search result.</summary>
internal sealed class ThreadHandler : CommandHandler<ThreadCommand>
{
    private sealed class Node
    {
        public Candidate? Message { get; set; }

        public Node? Parent { get; set; }

        public List<Node> Children { get; } = [];

        public DateTimeOffset Date => Message is not null ? SortHandler.SentDate(Message) : Children.Count > 0 ? Children[0].Date : DateTimeOffset.MinValue;

        public int Order => Message?.Seq ?? (Children.Count > 0 ? Children[0].Order : int.MaxValue);

        public bool IsAncestorOf(Node other)
        {
            for (var p = other; p is not null; p = p.Parent)
            {
                if (p == this)
                {
                    return true;
                }
            }

            return false;
        }

        public void AddChild(Node child)
        {
            child.Parent?.Children.Remove(child);
            child.Parent = this;
            Children.Add(child);
        }
    }

    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, ThreadCommand command, CancellationToken cancellationToken)
    {
        if (command.Algorithm is not ("ORDEREDSUBJECT" or "REFERENCES"))
        {
            return CommandResult.Bad("Unsupported threading algorithm");
        }

        if (!SearchEvaluator.IsSupportedCharset(command.Charset))
        {
            return CommandResult.No("Unsupported charset", "BADCHARSET (UTF-8 US-ASCII)");
        }

        var matches = await SearchEvaluator.RunAsync(session, command.Criteria, true, cancellationToken);
        var roots = command.Algorithm == "ORDEREDSUBJECT" ? OrderedSubject(matches) : References(matches);
        var sb = new StringBuilder("THREAD");
        if (roots.Count > 0)
        {
            sb.Append(' ');
        }

        foreach (var root in roots)
        {
            sb.Append('(');
            Format(sb, root, command.Uid);
            sb.Append(')');
        }

        session.Writer.Untagged().Ascii(sb.ToString()).EndLine();
        return CommandResult.Ok(command.Name + " completed");
    }

    /// <summary>RFC 5256 §5 thread-list: a chain is "a b c", several children each in parentheses.</summary>
    private static void Format(StringBuilder sb, Node node, bool uid)
    {
        var wrote = false;
        if (node.Message is { } m)
        {
            sb.Append(uid ? m.Entry.Uid : (uint)m.Seq);
            wrote = true;
        }

        if (node.Children.Count == 1 && node.Message is not null)
        {
            sb.Append(' ');
            Format(sb, node.Children[0], uid);
            return;
        }

        if (node.Children.Count > 0)
        {
            if (wrote)
            {
                sb.Append(' ');
            }

            foreach (var child in node.Children)
            {
                sb.Append('(');
                Format(sb, child, uid);
                sb.Append(')');
            }
        }
    }

    private static void SortByDate(List<Node> nodes) =>
        nodes.Sort((a, b) => a.Date != b.Date ? a.Date.CompareTo(b.Date) : a.Order.CompareTo(b.Order));

    /// <summary>RFC 5256 §2.1 ORDEREDSUBJECT: group by base subject, each group sorted by sent date;
    /// the first message is the parent of the others; threads ordered by their first message.</summary>
    private static List<Node> OrderedSubject(List<Candidate> matches)
    {
        var roots = new List<Node>();
        foreach (var group in matches.GroupBy(m => m.Index!.Search.BaseSubject, StringComparer.OrdinalIgnoreCase))
        {
            var nodes = group.Select(m => new Node { Message = m }).ToList();
            SortByDate(nodes);
            var root = nodes[0];
            foreach (var child in nodes.Skip(1))
            {
                root.AddChild(child);
            }

            roots.Add(root);
        }

        SortByDate(roots);
        return roots;
    }

    /// <summary>RFC 5256 §2.2 REFERENCES (after Zawinski): link by References / In-Reply-To, prune
    /// dummies, merge root threads with the same base subject, sort by sent date.</summary>
    private static List<Node> References(List<Candidate> matches)
    {
        var table = new Dictionary<string, Node>(StringComparer.Ordinal);
        var unique = 0;
        foreach (var m in matches)
        {
            var t = m.Index!.Threading;
            var id = t.MessageId;
            if (id is null || (table.TryGetValue(id, out var existing) && existing.Message is not null))
            {
                // Missing or duplicate Message-ID: a unique one (RFC 5256 §2.2 step 1).
                id = "\0" + (unique++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            var node = Get(table, id);
            node.Message = m;
            var refs = t.References.Count > 0 ? t.References : t.InReplyTo.Take(1).ToList();
            Node? previous = null;
            foreach (var r in refs)
            {
                var current = Get(table, r);
                if (previous is not null && current.Parent is null && current != previous && !current.IsAncestorOf(previous))
                {
                    previous.AddChild(current);
                }

                previous = current;
            }

            // Step 1B: the message's parent is the last reference, replacing any earlier link.
            if (previous is not null && previous != node && !node.IsAncestorOf(previous))
            {
                previous.AddChild(node);
            }
            else if (previous is null && node.Parent is not null)
            {
                node.Parent.Children.Remove(node);
                node.Parent = null;
            }
        }

        var roots = table.Values.Where(n => n.Parent is null).ToList();

        // Step 3: prune dummies.
        roots = Prune(roots, isRoot: true);
        foreach (var r in roots)
        {
            r.Parent = null;
        }

        // Step 4 (sorted here so "first child" is well defined) and step 5: merge by subject.
        SortTree(roots);
        var bySubject = new Dictionary<string, Node>(StringComparer.OrdinalIgnoreCase);
        foreach (var root in roots)
        {
            var subject = SubjectOf(root);
            if (subject.Length == 0)
            {
                continue;
            }

            if (!bySubject.TryGetValue(subject, out var current) || Prefer(root, current))
            {
                bySubject[subject] = root;
            }
        }

        var merged = new List<Node>();
        foreach (var root in roots)
        {
            var subject = SubjectOf(root);
            if (subject.Length == 0 || !bySubject.TryGetValue(subject, out var target) || target == root)
            {
                merged.Add(root);
                continue;
            }

            if (target.Message is null && root.Message is null)
            {
                foreach (var c in root.Children.ToList())
                {
                    target.AddChild(c);
                }
            }
            else if (target.Message is null)
            {
                target.AddChild(root);
            }
            else if (IsReply(root) && !IsReply(target))
            {
                target.AddChild(root);
            }
            else
            {
                var dummy = new Node();
                var index = merged.IndexOf(target);
                dummy.AddChild(target);
                dummy.AddChild(root);
                if (index >= 0)
                {
                    merged[index] = dummy;
                }

                bySubject[subject] = dummy;
            }
        }

        var result = merged.Where(n => n.Parent is null).Distinct().ToList();
        foreach (var n in bySubject.Values)
        {
            if (n.Parent is null && !result.Contains(n))
            {
                result.Add(n);
            }
        }

        SortTree(result);
        return result;
    }

    private static void SortTree(List<Node> nodes)
    {
        foreach (var n in nodes)
        {
            SortTree(n.Children);
        }

        SortByDate(nodes);
    }

    private static List<Node> Prune(List<Node> nodes, bool isRoot)
    {
        var result = new List<Node>();
        foreach (var n in nodes)
        {
            var kids = Prune([.. n.Children], isRoot: false);
            n.Children.Clear();
            foreach (var k in kids)
            {
                k.Parent = n;
                n.Children.Add(k);
            }

            if (n.Message is not null)
            {
                result.Add(n);
            }
            else if (n.Children.Count == 0)
            {
                // A dummy without children disappears.
            }
            else if (!isRoot || n.Children.Count == 1)
            {
                // Promote the children of a dummy (at the root only when it has one child).
                foreach (var k in n.Children)
                {
                    k.Parent = null;
                    result.Add(k);
                }
            }
            else
            {
                result.Add(n);
            }
        }

        return result;
    }

    private static string SubjectOf(Node n) =>
        n.Message?.Index!.Search.BaseSubject ?? (n.Children.Count > 0 ? n.Children[0].Message?.Index!.Search.BaseSubject ?? string.Empty : string.Empty);

    private static bool IsReply(Node n)
    {
        var raw = n.Message?.Index!.Envelope.DecodedSubject?.Trim() ?? string.Empty;
        return !string.Equals(raw, n.Message?.Index!.Search.BaseSubject ?? string.Empty, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>RFC 5256 §2.2 step 5C: a dummy beats a message; a non-reply beats a reply.</summary>
    private static bool Prefer(Node candidate, Node current) =>
        (candidate.Message is null && current.Message is not null) || (current.Message is not null && candidate.Message is not null && IsReply(current) && !IsReply(candidate));

    private static Node Get(Dictionary<string, Node> table, string id)
    {
        if (!table.TryGetValue(id, out var node))
        {
            node = new Node();
            table[id] = node;
        }

        return node;
    }
}