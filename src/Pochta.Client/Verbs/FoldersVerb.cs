using System.CommandLine;
using System.Globalization;

using MailKit;
using MailKit.Net.Imap;

using Pochta.Client.Cli;

using Spectre.Console;

namespace Pochta.Client.Verbs;

internal sealed record FolderView(string Name, string? SpecialUse, int? Messages, int? Unread, bool Subscribed);

/// <summary><c>mail folders</c>: every folder with its special use (RFC 6154) and counts.</summary>
internal static class FoldersVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var command = new Command("folders", "List folders");
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            var imap = await context.ImapAsync(account);
            var root = imap.PersonalNamespaces.Count > 0 ? imap.PersonalNamespaces[0] : new FolderNamespace('/', string.Empty);
            var folders = await imap.GetFoldersAsync(root, StatusItems.None, subscribedOnly: false, context.CancellationToken);
            if (!folders.Any(f => f.FullName.Equals("INBOX", StringComparison.OrdinalIgnoreCase)))
            {
                folders = [imap.Inbox, .. folders];
            }

            var views = new List<FolderView>();
            foreach (var folder in folders.OrderBy(f => f.FullName.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? 0 : 1).ThenBy(f => f.FullName, StringComparer.Ordinal))
            {
                int? messages = null, unread = null;
                if (!folder.Attributes.HasFlag(FolderAttributes.NoSelect) && !folder.Attributes.HasFlag(FolderAttributes.NonExistent))
                {
                    try
                    {
                        await folder.StatusAsync(StatusItems.Count | StatusItems.Unread, context.CancellationToken);
                        messages = folder.Count;
                        unread = folder.Unread;
                    }
                    catch (ImapCommandException)
                    {
                        // Listed but not selectable for STATUS: show it without counts.
                    }
                }

                views.Add(new FolderView(folder.FullName, SpecialUse(folder.Attributes), messages, unread, folder.IsSubscribed));
            }

            if (context.Json)
            {
                context.WriteJson(views);
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("Folder", "Use", "Messages", "Unread");
            foreach (var view in views)
            {
                table.AddRow(
                    new Text(view.Name),
                    new Text(view.SpecialUse ?? string.Empty),
                    new Text(view.Messages?.ToString(CultureInfo.InvariantCulture) ?? "-"),
                    new Text(view.Unread?.ToString(CultureInfo.InvariantCulture) ?? "-"));
            }

            context.Console.Write(table);
            return ExitCodes.Ok;
        });
    }

    private static string? SpecialUse(FolderAttributes attributes)
    {
        foreach (var (flag, name) in new[]
        {
            (FolderAttributes.Inbox, "inbox"), (FolderAttributes.Sent, "sent"), (FolderAttributes.Drafts, "drafts"),
            (FolderAttributes.Trash, "trash"), (FolderAttributes.Junk, "junk"), (FolderAttributes.Archive, "archive"),
            (FolderAttributes.All, "all"), (FolderAttributes.Flagged, "flagged"),
        })
        {
            if (attributes.HasFlag(flag))
            {
                return name;
            }
        }

        return null;
    }
}