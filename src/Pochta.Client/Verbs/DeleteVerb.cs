using System.CommandLine;

using MailKit;
using MailKit.Net.Imap;

using Pochta.Client.Cli;

namespace Pochta.Client.Verbs;

/// <summary><c>mail delete ID... [--trash]</c>: \Deleted plus UID EXPUNGE of exactly those messages
/// (RFC 4315), or a move to the Trash folder.</summary>
internal static class DeleteVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var ids = new Argument<string[]>("id") { Description = "Message numbers (UIDs)", Arity = ArgumentArity.OneOrMore };
        var folder = ReplyVerb.FolderOption();
        var trash = new Option<bool>("--trash") { Description = "Move to Trash instead of deleting for good" };
        var command = new Command("delete", "Delete messages") { ids, folder, trash };
        return command.Bind(globals, environment, async context =>
        {
            var uids = Args.ParseUids(context.Get(ids));
            var account = await context.GetAccountAsync();
            var imap = await context.ImapAsync(account);
            var source = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadWrite, context.CancellationToken);
            var found = await Folders.RequireExistingAsync(source, uids, context.CancellationToken);
            if (context.Get(trash))
            {
                var bin = await Folders.FindSpecialAsync(imap, SpecialFolder.Trash, context.CancellationToken)
                    ?? throw ClientException.NotFound("no Trash folder");
                await source.MoveToAsync(found, bin, context.CancellationToken);
            }
            else
            {
                await source.StoreAsync(found, new StoreFlagsRequest(StoreAction.Add, MessageFlags.Deleted) { Silent = true }, context.CancellationToken);
                if (imap.Capabilities.HasFlag(ImapCapabilities.UidPlus))
                {
                    await source.ExpungeAsync(found, context.CancellationToken);
                }
                else
                {
                    // Without UIDPLUS, EXPUNGE removes every \Deleted message in the folder.
                    await context.Error.WriteLineAsync("pochta mail: note: server lacks UIDPLUS; expunging all deleted messages in the folder");
                    await source.ExpungeAsync(context.CancellationToken);
                }
            }

            if (context.Json)
            {
                context.WriteJson(new { deleted = found.Select(u => u.Id).ToArray(), trash = context.Get(trash) });
            }
            else
            {
                context.Out.WriteLine($"deleted {found.Count} message(s)");
            }

            return ExitCodes.Ok;
        });
    }
}