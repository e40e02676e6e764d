using System.CommandLine;

using MailKit;

using MimeKit;

using Pochta.Client.Cli;

namespace Pochta.Client.Verbs;

/// <summary><c>mail save-attachments ID DIR</c>: decoded attachments under safe, unique names.</summary>
internal static class SaveAttachmentsVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var id = new Argument<string>("id") { Description = "Message number (UID) from 'list'" };
        var directory = new Argument<string>("dir") { Description = "Directory to save into (created if missing)" };
        var folder = ReplyVerb.FolderOption();
        var command = new Command("save-attachments", "Save a message's attachments") { id, directory, folder };
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            var uid = new UniqueId(Args.ParseUid(context.Get(id)!));
            var imap = await context.ImapAsync(account);
            var mailbox = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadOnly, context.CancellationToken);
            await Folders.RequireExistingAsync(mailbox, [uid], context.CancellationToken);
            using var message = await mailbox.GetMessageAsync(uid, context.CancellationToken);
            var target = Directory.CreateDirectory(context.Get(directory)!).FullName;
            var saved = new List<string>();
            var index = 0;
            foreach (var entity in message.Attachments)
            {
                index++;
                var path = await SaveAsync(entity, target, MessageViews.FileNameOf(entity, index), context.CancellationToken);
                saved.Add(path);
            }

            if (context.Json)
            {
                context.WriteJson(saved);
            }
            else
            {
                foreach (var path in saved)
                {
                    context.Out.WriteLine(path);
                }

                if (saved.Count == 0)
                {
                    context.Out.WriteLine("no attachments");
                }
            }

            return ExitCodes.Ok;
        });
    }

    internal static async Task<string> SaveAsync(MimeEntity entity, string directory, string suggestedName, CancellationToken cancellationToken)
    {
        var name = SafeFileName(suggestedName);
        var stem = Path.GetFileNameWithoutExtension(name);
        var extension = Path.GetExtension(name);
        for (var attempt = 0; ; attempt++)
        {
            var path = Path.Combine(directory, attempt == 0 ? name : $"{stem} ({attempt}){extension}");
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            }
            catch (IOException) when (File.Exists(path) && attempt < 1000)
            {
                continue;
            }

            await using (file)
            {
                switch (entity)
                {
                    case MimePart part when part.Content is not null:
                        await part.Content.DecodeToAsync(file, cancellationToken);
                        break;
                    case MessagePart { Message: { } inner }:
                        await inner.WriteToAsync(file, cancellationToken);
                        break;
                }
            }

            return path;
        }
    }

    /// <summary>A bare file name: no directories, no "..", no control or path characters.</summary>
    internal static string SafeFileName(string name)
    {
        var bare = name.Replace('\\', '/');
        bare = bare[(bare.LastIndexOf('/') + 1)..];
        var invalid = Path.GetInvalidFileNameChars();
        var chars = bare.Select(c => char.IsControl(c) || invalid.Contains(c) ? '_' : c).ToArray();
        var result = new string(chars).Trim().TrimStart('.');
        return result.Length == 0 ? "attachment" : result;
    }
}