using System.CommandLine;

using MailKit;

using Pochta.Client.Cli;

namespace Pochta.Client.Verbs;

/// <summary><c>mail flag ID... [--add FLAG]... [--remove FLAG]...</c>.</summary>
internal static class FlagVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var ids = new Argument<string[]>("id") { Description = "Message numbers (UIDs)", Arity = ArgumentArity.OneOrMore };
        var add = SendVerb.Multi("--add", "Flag to set: seen, answered, flagged, deleted, draft or a keyword");
        var remove = SendVerb.Multi("--remove", "Flag to clear");
        var folder = ReplyVerb.FolderOption();
        var command = new Command("flag", "Set or clear flags") { ids, add, remove, folder };
        return command.Bind(globals, environment, async context =>
        {
            var uids = Args.ParseUids(context.Get(ids));
            var (addFlags, addKeywords) = Args.ParseFlags(context.Get(add));
            var (removeFlags, removeKeywords) = Args.ParseFlags(context.Get(remove));
            if (addFlags == MessageFlags.None && addKeywords.Count == 0 && removeFlags == MessageFlags.None && removeKeywords.Count == 0)
            {
                throw ClientException.Usage("give --add or --remove");
            }

            var account = await context.GetAccountAsync();
            var imap = await context.ImapAsync(account);
            var source = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadWrite, context.CancellationToken);
            var found = await Folders.RequireExistingAsync(source, uids, context.CancellationToken);
            if (addFlags != MessageFlags.None || addKeywords.Count > 0)
            {
                await source.StoreAsync(found, new StoreFlagsRequest(StoreAction.Add, addFlags, addKeywords) { Silent = true }, context.CancellationToken);
            }

            if (removeFlags != MessageFlags.None || removeKeywords.Count > 0)
            {
                await source.StoreAsync(found, new StoreFlagsRequest(StoreAction.Remove, removeFlags, removeKeywords) { Silent = true }, context.CancellationToken);
            }

            var summaries = await source.FetchAsync(found, MessageSummaryItems.UniqueId | MessageSummaryItems.Flags, context.CancellationToken);
            var views = summaries.Select(s => new { uid = s.UniqueId.Id, flags = Args.FlagNames(s.Flags ?? MessageFlags.None, s.Keywords) }).ToList();
            if (context.Json)
            {
                context.WriteJson(views);
            }
            else
            {
                foreach (var view in views)
                {
                    context.Out.WriteLine($"{view.uid}: {string.Join(' ', view.flags)}");
                }
            }

            return ExitCodes.Ok;
        });
    }
}