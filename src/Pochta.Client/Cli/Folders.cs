using MailKit;
using MailKit.Net.Imap;

namespace Pochta.Client.Cli;

internal static class Folders
{
    /// <summary>Opens a folder by name ("INBOX" is case-insensitive, RFC 9051 §5.1).</summary>
    public static async Task<IMailFolder> OpenAsync(ImapClient client, string? name, FolderAccess access, CancellationToken cancellationToken)
    {
        var folder = await GetAsync(client, name ?? "INBOX", cancellationToken);
        await folder.OpenAsync(access, cancellationToken);
        return folder;
    }

    public static async Task<IMailFolder> GetAsync(ImapClient client, string name, CancellationToken cancellationToken)
    {
        return string.Equals(name, "INBOX", StringComparison.OrdinalIgnoreCase)
            ? client.Inbox
            : await client.GetFolderAsync(name, cancellationToken);
    }

    /// <summary>The special-use folder (RFC 6154), else the first folder with a usual name.</summary>
    public static async Task<IMailFolder?> FindSpecialAsync(ImapClient client, SpecialFolder special, CancellationToken cancellationToken)
    {
        if ((client.Capabilities & (ImapCapabilities.SpecialUse | ImapCapabilities.XList)) != 0)
        {
            var folder = client.GetFolder(special);
            if (folder is not null)
            {
                return folder;
            }
        }

        string[] names = special switch
        {
            SpecialFolder.Sent => ["Sent", "Sent Items", "Sent Messages"],
            SpecialFolder.Trash => ["Trash", "Deleted Items", "Deleted Messages"],
            SpecialFolder.Drafts => ["Drafts"],
            SpecialFolder.Junk => ["Junk", "Spam"],
            SpecialFolder.Archive => ["Archive"],
            _ => [],
        };
        foreach (var name in names)
        {
            try
            {
                return await client.GetFolderAsync(name, cancellationToken);
            }
            catch (FolderNotFoundException)
            {
            }
        }

        return null;
    }

    /// <summary>Which of <paramref name="uids"/> exist in the open folder.</summary>
    public static async Task<IList<UniqueId>> RequireExistingAsync(IMailFolder folder, IList<UniqueId> uids, CancellationToken cancellationToken)
    {
        var found = await folder.SearchAsync(MailKit.Search.SearchQuery.Uids(uids), cancellationToken);
        var missing = uids.Except(found).ToList();
        if (missing.Count > 0)
        {
            throw ClientException.NotFound($"no message {string.Join(',', missing.Select(u => u.Id))} in {folder.FullName}");
        }

        return found;
    }
}