using System.CommandLine;

using MailKit;

using Pochta.Client.Cli;

namespace Pochta.Client.Verbs;

/// <summary><c>mail search QUERY...</c>: a server-side SEARCH (RFC 9051 §6.4.4).</summary>
internal static class SearchVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var query = new Argument<string[]>("query")
        {
            Description = "Terms: words (anywhere), from:, to:, cc:, subject:, body:, since:YYYY-MM-DD, before:YYYY-MM-DD, larger:N, smaller:N, unread, read, flagged, answered",
            Arity = ArgumentArity.OneOrMore,
        };
        var folder = ReplyVerb.FolderOption();
        var limit = ListVerb.LimitOption();
        var command = new Command("search", "Search a folder on the server") { query, folder, limit };
        return command.Bind(globals, environment, async context =>
        {
            var search = SearchQueryParser.Parse(context.Get(query) ?? []);
            var account = await context.GetAccountAsync();
            var imap = await context.ImapAsync(account);
            var mailbox = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadOnly, context.CancellationToken);
            var uids = await mailbox.SearchAsync(search, context.CancellationToken);
            var summaries = await ListVerb.FetchNewestAsync(mailbox, uids, context.Get(limit), context.CancellationToken);
            MessageViews.WriteList(context, summaries);
            return uids.Count == 0 ? ExitCodes.Refused : ExitCodes.Ok;
        });
    }
}