using Pochta.Imap.Protocol;
using Pochta.Storage;

namespace Pochta.Imap.Handlers;

/// <summary>
/// RFC 9051 §6.3.9 LIST with RFC 5258 LIST-EXTENDED (selection SUBSCRIBED, REMOTE, RECURSIVEMATCH,
/// SPECIAL-USE; return SUBSCRIBED, CHILDREN, SPECIAL-USE, RFC 5819 STATUS), and RFC 3501 LSUB.
/// Names that exist only as superiors of real mailboxes list as \NonExistent (\Noselect for rev1
/// LIST and LSUB).
/// </summary>
internal sealed class ListHandler : CommandHandler<ListCommand>
{
    private sealed class Node
    {
        public required string Name { get; init; }

        public MailboxInfo? Mailbox { get; set; }

        public bool Subscribed { get; set; }

        public bool HasChildren { get; set; }

        public bool HasSubscribedChild { get; set; }
    }

    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, ListCommand command, CancellationToken cancellationToken)
    {
        var selection = command.SelectionOptions;
        var returns = command.ReturnOptions;
        foreach (var s in selection)
        {
            if (s is not ("SUBSCRIBED" or "REMOTE" or "RECURSIVEMATCH" or "SPECIAL-USE"))
            {
                return CommandResult.Bad("Unknown selection option");
            }
        }

        foreach (var r in returns)
        {
            if (r is not ("SUBSCRIBED" or "CHILDREN" or "SPECIAL-USE" or "STATUS"))
            {
                return CommandResult.Bad("Unknown return option");
            }
        }

        if (selection.Contains("RECURSIVEMATCH") && !selection.Contains("SUBSCRIBED") && !selection.Contains("SPECIAL-USE"))
        {
            // RFC 5258 §3.1: RECURSIVEMATCH alone is an error.
            return CommandResult.Bad("RECURSIVEMATCH needs another selection option");
        }

        foreach (var item in command.StatusItems)
        {
            if (!StatusHandler.IsKnown(item))
            {
                return CommandResult.Bad("Unknown status item");
            }
        }

        var name = command.Lsub ? "LSUB" : "LIST";
        if (!command.Lsub && command.Patterns is [""] && selection.Count == 0)
        {
            // RFC 9051 §6.3.9: an empty pattern returns the delimiter and the root.
            session.Writer.Untagged().Raw("LIST (\\Noselect) \"/\" \"\""u8).EndLine();
            return CommandResult.Ok("LIST completed");
        }

        var store = session.Store.Mailboxes;
        var mailboxes = await store.ListMailboxesAsync(session.AccountId, cancellationToken);
        var subscriptions = await store.ListSubscriptionsAsync(session.AccountId, cancellationToken);
        var nodes = BuildTree(mailboxes, subscriptions);

        var subscribedOnly = command.Lsub || selection.Contains("SUBSCRIBED");
        var specialOnly = selection.Contains("SPECIAL-USE");
        var recursive = selection.Contains("RECURSIVEMATCH");
        var extended = !command.Lsub && (session.Rev2 || selection.Count > 0 || returns.Count > 0 || command.Patterns.Count > 1);
        var returnSubscribed = returns.Contains("SUBSCRIBED") || (selection.Contains("SUBSCRIBED") && !command.Lsub);
        var returnStatus = returns.Contains("STATUS");
        var patterns = command.Patterns.Select(p => Combine(command.Reference, p)).ToList();

        foreach (var node in nodes.Values.OrderBy(n => n.Name == "INBOX" ? 0 : 1).ThenBy(n => n.Name, StringComparer.Ordinal))
        {
            var matches = patterns.Any(p => MailboxNames.Matches(p, node.Name));
            if (!matches)
            {
                continue;
            }

            var selected = subscribedOnly ? node.Subscribed : specialOnly ? node.Mailbox is { SpecialUse: not Core.SpecialUse.None and not Core.SpecialUse.Inbox } : node.Mailbox is not null || node.HasChildren;
            var childInfo = false;
            if (!selected && recursive && subscribedOnly && node.HasSubscribedChild)
            {
                // RFC 5258 §3.5: a parent of a matching subscribed name, with CHILDINFO.
                selected = true;
                childInfo = true;
            }
            else if (!selected && command.Lsub && node.HasSubscribedChild && patterns.Any(p => p.Contains('%', StringComparison.Ordinal)))
            {
                // RFC 3501 §6.3.9: "%" in LSUB returns a non-subscribed parent as \Noselect.
                selected = true;
                childInfo = true;
            }

            if (!selected)
            {
                continue;
            }

            var attrs = new List<string>();
            if (node.Mailbox is null)
            {
                attrs.Add(extended ? "\\NonExistent" : "\\Noselect");
            }
            else if (command.Lsub && !node.Subscribed)
            {
                attrs.Add("\\Noselect");
            }

            if (!command.Lsub)
            {
                attrs.Add(node.HasChildren ? "\\HasChildren" : "\\HasNoChildren");
            }

            if (returnSubscribed && node.Subscribed)
            {
                attrs.Add("\\Subscribed");
            }

            if (!command.Lsub && node.Mailbox is { } m && MailboxNames.SpecialUseAttribute(m.SpecialUse) is { } use)
            {
                attrs.Add(use);
            }

            var w = session.Writer.Untagged().Ascii(name).Raw(" ("u8).Ascii(string.Join(' ', attrs)).Raw(") \"/\" "u8).Mailbox(node.Name);
            if (childInfo && !command.Lsub)
            {
                w.Raw(" (\"CHILDINFO\" (\"SUBSCRIBED\"))"u8);
            }

            w.EndLine();
            if (returnStatus && node.Mailbox is { } mb)
            {
                // RFC 5819 §2: STATUS follows its LIST response.
                await StatusHandler.WriteStatusAsync(session, mb, command.StatusItems, cancellationToken);
            }
        }

        return CommandResult.Ok(name + " completed");
    }

    /// <summary>RFC 9051 §6.3.9: the reference is a prefix; a pattern starting with the delimiter stands alone.</summary>
    private static string Combine(string reference, string pattern)
    {
        if (reference.Length == 0 || pattern.StartsWith('/'))
        {
            return pattern;
        }

        return reference.EndsWith('/') ? reference + pattern : reference + "/" + pattern;
    }

    private static Dictionary<string, Node> BuildTree(IReadOnlyList<MailboxInfo> mailboxes, IReadOnlyList<string> subscriptions)
    {
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        Node Get(string n)
        {
            if (!nodes.TryGetValue(n, out var node))
            {
                node = new Node { Name = n };
                nodes[n] = node;
            }

            return node;
        }

        foreach (var m in mailboxes)
        {
            Get(m.Name).Mailbox = m;
            if (m.Subscribed)
            {
                Get(m.Name).Subscribed = true;
            }
        }

        foreach (var s in subscriptions)
        {
            Get(MailboxNames.Normalize(s)).Subscribed = true;
        }

        foreach (var n in nodes.Values.ToList())
        {
            foreach (var ancestor in MailboxNames.Ancestors(n.Name))
            {
                var a = Get(ancestor);
                if (n.Mailbox is not null)
                {
                    a.HasChildren = true;
                }

                if (n.Subscribed)
                {
                    a.HasSubscribedChild = true;
                }
            }
        }

        return nodes;
    }
}