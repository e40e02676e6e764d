using System.CommandLine;

using MailKit;

using Pochta.Client.Cli;
using Pochta.Client.Compose;

namespace Pochta.Client.Verbs;

/// <summary><c>mail forward ID --to A</c>: the original travels whole as message/rfc822.</summary>
internal static class ForwardVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var id = new Argument<string>("id") { Description = "Message number (UID) from 'list'" };
        var to = SendVerb.Multi("--to", "Recipient");
        var cc = SendVerb.Multi("--cc", "Copy recipient");
        var folder = ReplyVerb.FolderOption();
        var noSave = new Option<bool>("--no-save") { Description = "Do not keep a copy in Sent" };
        var command = new Command("forward", "Forward a message; an optional note is read from stdin or $EDITOR") { id, to, cc, folder, noSave };
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            var recipients = Args.ParseAddresses(context.Get(to));
            if (recipients.Count == 0)
            {
                throw ClientException.Usage("forward needs --to");
            }

            var uid = new UniqueId(Args.ParseUid(context.Get(id)!));
            var imap = await context.ImapAsync(account);
            var source = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadWrite, context.CancellationToken);
            await Folders.RequireExistingAsync(source, [uid], context.CancellationToken);
            using var original = await source.GetMessageAsync(uid, context.CancellationToken);
            var text = await BodySource.ReadAsync(context) ?? string.Empty;
            var draft = ReplyBuilder.Forward(original, Submission.Self(account), recipients, Args.ParseAddresses(context.Get(cc)), text);
            using var composed = new MessageComposer(environment.Time).Compose(draft);
            var result = await Submission.SendAsync(context, account, composed.Message, !context.Get(noSave));
            if (source.PermanentFlags.HasFlag(MessageFlags.UserDefined) || source.PermanentKeywords.Contains("$Forwarded"))
            {
                await source.StoreAsync(uid, new StoreFlagsRequest(StoreAction.Add, ["$Forwarded"]) { Silent = true }, context.CancellationToken);
            }
            Submission.Report(context, result);
            return ExitCodes.Ok;
        });
    }
}