using System.CommandLine;

using MailKit;

using MimeKit;

using Pochta.Client.Cli;
using Pochta.Client.Compose;

namespace Pochta.Client.Verbs;

internal sealed record AttachmentView(int Index, string FileName, string ContentType, long Size);

internal sealed record MessageView(
    uint Uid, string? MessageId, string From, string To, string Cc, DateTimeOffset Date, string Subject, string Text, IReadOnlyList<AttachmentView> Attachments);

/// <summary><c>mail read ID [--folder F] [--raw] [--peek]</c>: headers, the text body (HTML rendered
/// to text when there is no plain part) and the list of attachments. Marks the message \Seen
/// unless --peek.</summary>
internal static class ReadVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var id = new Argument<string>("id") { Description = "Message number (UID) from 'list'" };
        var folder = ReplyVerb.FolderOption();
        var raw = new Option<bool>("--raw") { Description = "Print the message exactly as stored" };
        var peek = new Option<bool>("--peek") { Description = "Do not mark the message as read" };
        var command = new Command("read", "Show a message") { id, folder, raw, peek };
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            var uid = new UniqueId(Args.ParseUid(context.Get(id)!));
            var imap = await context.ImapAsync(account);
            var peeking = context.Get(peek);
            var mailbox = await Folders.OpenAsync(imap, context.Get(folder), peeking ? FolderAccess.ReadOnly : FolderAccess.ReadWrite, context.CancellationToken);
            await Folders.RequireExistingAsync(mailbox, [uid], context.CancellationToken);
            if (context.Get(raw))
            {
                await using var stream = await mailbox.GetStreamAsync(uid, context.CancellationToken);
                await WriteRawAsync(context, stream);
            }
            else
            {
                using var message = await mailbox.GetMessageAsync(uid, context.CancellationToken);
                Write(context, ToView(uid.Id, message, context.CancellationToken));
            }

            if (!peeking)
            {
                await mailbox.StoreAsync(uid, new StoreFlagsRequest(StoreAction.Add, MessageFlags.Seen) { Silent = true }, context.CancellationToken);
            }

            return ExitCodes.Ok;
        });
    }

    internal static MessageView ToView(uint uid, MimeMessage message, CancellationToken cancellationToken)
    {
        var attachments = message.Attachments
            .Select((entity, index) => new AttachmentView(index + 1, MessageViews.FileNameOf(entity, index + 1), entity.ContentType.MimeType, MessageViews.DecodedSize(entity, cancellationToken)))
            .ToList();
        var text = message.TextBody ?? (message.HtmlBody is { } html ? HtmlText.ToPlainText(html) : string.Empty);
        return new MessageView(uid, message.MessageId, message.From.ToString(), message.To.ToString(), message.Cc.ToString(), message.Date, message.Subject ?? string.Empty, text, attachments);
    }

    private static void Write(VerbContext context, MessageView view)
    {
        if (context.Json)
        {
            context.WriteJson(view);
            return;
        }

        var output = context.Out;
        output.WriteLine($"From:    {view.From}");
        output.WriteLine($"To:      {view.To}");
        if (view.Cc.Length > 0)
        {
            output.WriteLine($"Cc:      {view.Cc}");
        }

        output.WriteLine($"Date:    {view.Date:ddd, d MMM yyyy HH:mm:ss zzz}");
        output.WriteLine($"Subject: {view.Subject}");
        output.WriteLine();
        output.WriteLine(view.Text.TrimEnd());
        if (view.Attachments.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Attachments:");
            foreach (var attachment in view.Attachments)
            {
                output.WriteLine($"  {attachment.Index}. {attachment.FileName} ({attachment.ContentType}, {MessageViews.FormatSize(attachment.Size)})");
            }
        }
    }

    private static async Task WriteRawAsync(VerbContext context, Stream stream)
    {
        if (ReferenceEquals(context.Out, Console.Out))
        {
            await Console.Out.FlushAsync(context.CancellationToken);
            await using var stdout = context.Environment.OpenStandardOutput();
            await stream.CopyToAsync(stdout, context.CancellationToken);
            return;
        }

        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        await context.Out.WriteAsync(await reader.ReadToEndAsync(context.CancellationToken));
    }
}