using System.CommandLine;

using MailKit;
using MailKit.Search;

using Pochta.Client.Cli;

namespace Pochta.Client.Verbs;

/// <summary><c>mail list [FOLDER] [--unread] [--limit N]</c>: the newest messages.</summary>
internal static class ListVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var folder = new Argument<string?>("folder") { Description = "Folder (default INBOX)", Arity = ArgumentArity.ZeroOrOne };
        var unread = new Option<bool>("--unread") { Description = "Only unread messages" };
        var limit = LimitOption();
        var command = new Command("list", "List messages in a folder") { folder, unread, limit };
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            var imap = await context.ImapAsync(account);
            var mailbox = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadOnly, context.CancellationToken);
            var uids = await mailbox.SearchAsync(context.Get(unread) ? SearchQuery.NotSeen : SearchQuery.All, context.CancellationToken);
            var summaries = await FetchNewestAsync(mailbox, uids, context.Get(limit), context.CancellationToken);
            MessageViews.WriteList(context, summaries);
            return ExitCodes.Ok;
        });
    }

    internal static Option<int> LimitOption()
    {
        var option = new Option<int>("--limit", "-n") { Description = "At most this many (newest first kept)", DefaultValueFactory = _ => 50 };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--limit must be at least 1");
            }
        });
        return option;
    }

    internal static async Task<IReadOnlyList<IMessageSummary>> FetchNewestAsync(IMailFolder folder, IList<UniqueId> uids, int limit, CancellationToken cancellationToken)
    {
        var newest = uids.OrderBy(u => u.Id).TakeLast(limit).ToList();
        return newest.Count == 0 ? [] : [.. await folder.FetchAsync(newest, MessageViews.ListItems, cancellationToken)];
    }
}