using System.CommandLine;

using MailKit;

using Pochta.Client.Cli;
using Pochta.Client.Compose;

namespace Pochta.Client.Verbs;

/// <summary><c>mail reply ID [--all] [--folder F]</c>: quotes the original, threads by
/// In-Reply-To/References, marks the original \Answered.</summary>
internal static class ReplyVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var id = new Argument<string>("id") { Description = "Message number (UID) from 'list'" };
        var all = new Option<bool>("--all") { Description = "Reply to all recipients" };
        var folder = FolderOption();
        var noSave = new Option<bool>("--no-save") { Description = "Do not keep a copy in Sent" };
        var command = new Command("reply", "Reply to a message; your text is read from stdin or $EDITOR") { id, all, folder, noSave };
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            var uid = new UniqueId(Args.ParseUid(context.Get(id)!));
            var imap = await context.ImapAsync(account);
            var source = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadWrite, context.CancellationToken);
            await Folders.RequireExistingAsync(source, [uid], context.CancellationToken);
            using var original = await source.GetMessageAsync(uid, context.CancellationToken);
            var text = await BodySource.ReadAsync(context) ?? throw ClientException.Usage("no reply text: pipe it on stdin or set $EDITOR");
            var draft = ReplyBuilder.Reply(original, Submission.Self(account), context.Get(all), text);
            using var composed = new MessageComposer(environment.Time).Compose(draft);
            var result = await Submission.SendAsync(context, account, composed.Message, !context.Get(noSave));
            await source.StoreAsync(uid, new StoreFlagsRequest(StoreAction.Add, MessageFlags.Answered) { Silent = true }, context.CancellationToken);
            Submission.Report(context, result);
            return ExitCodes.Ok;
        });
    }

    internal static Option<string?> FolderOption() => new("--folder", "-f") { Description = "Folder (default INBOX)" };
}