using System.CommandLine;

using MailKit;

using Pochta.Client.Cli;

namespace Pochta.Client.Verbs;

internal sealed record TransferView(uint Uid, uint? NewUid);

/// <summary><c>mail move|copy ID... --to FOLDER [--folder SRC]</c> (RFC 6851 MOVE when offered).</summary>
internal static class TransferVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment, bool move)
    {
        var ids = new Argument<string[]>("id") { Description = "Message numbers (UIDs): 7, 3,5 or 10:12", Arity = ArgumentArity.OneOrMore };
        var to = new Option<string>("--to") { Description = "Destination folder", Required = true };
        var folder = ReplyVerb.FolderOption();
        var command = new Command(move ? "move" : "copy", move ? "Move messages to another folder" : "Copy messages to another folder") { ids, to, folder };
        return command.Bind(globals, environment, async context =>
        {
            var uids = Args.ParseUids(context.Get(ids));
            var account = await context.GetAccountAsync();
            var imap = await context.ImapAsync(account);
            var destination = await Folders.GetAsync(imap, context.Get(to)!, context.CancellationToken);
            var source = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadWrite, context.CancellationToken);
            var found = await Folders.RequireExistingAsync(source, uids, context.CancellationToken);
            var map = move
                ? await source.MoveToAsync(found, destination, context.CancellationToken)
                : await source.CopyToAsync(found, destination, context.CancellationToken);
            var views = found.Select(uid => new TransferView(uid.Id, map.TryGetValue(uid, out var created) ? created.Id : null)).ToList();
            if (context.Json)
            {
                context.WriteJson(views);
            }
            else
            {
                context.Out.WriteLine($"{(move ? "moved" : "copied")} {views.Count} message(s) to {destination.FullName}");
            }

            return ExitCodes.Ok;
        });
    }
}