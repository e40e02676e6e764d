using System.CommandLine;

using Pochta.Client.Cli;
using Pochta.Client.Config;
using Pochta.Client.Local;

using Spectre.Console;

namespace Pochta.Client.Verbs;

/// <summary><c>mail fetch [--maildir DIR] [--keep]</c>: POP3 download into a Maildir.</summary>
internal static class FetchVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var maildir = new Option<string?>("--maildir") { Description = "Maildir to deliver into (default ~/Maildir)" };
        var mbox = new Option<string?>("--mbox") { Description = "Append to this mbox file (mboxrd) instead of a Maildir" };
        var keep = new Option<bool>("--keep") { Description = "Leave messages on the server; UIDL makes sure each is downloaded once" };
        var stateFile = new Option<string?>("--state") { Description = "UIDL record (default ~/.config/pochta/uidl/ACCOUNT)" };
        var command = new Command("fetch", "Download new messages over POP3 into a Maildir") { maildir, mbox, keep, stateFile };
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            if (context.Get(maildir) is not null && context.Get(mbox) is not null)
            {
                throw ClientException.Usage("give --maildir or --mbox, not both");
            }

            var root = context.Get(maildir) ?? Path.Combine(environment.HomeDirectory, "Maildir");
            var statePath = context.Get(stateFile)
                ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(context.ConfigStore.Path))!, "uidl", account.Name);
            var state = await UidlState.LoadAsync(statePath, context.CancellationToken);
            IMessageSink writer = context.Get(mbox) is { } mboxPath
                ? new MboxWriter(mboxPath, environment.Time)
                : new MaildirWriter(root, environment.Time);
            var fetcher = new Pop3Fetcher(writer, state);

            using var client = await context.Connector.Pop3Async(account, context.CancellationToken);
            var mailbox = new Pop3ClientMailbox(client);
            FetchResult result;
            if (!context.Json && context.Environment.OutputIsTerminal && mailbox.Count > 0)
            {
                result = null!;
                await context.Console.Progress().StartAsync(async progress =>
                {
                    var task = progress.AddTask($"{account.Name}: downloading", maxValue: mailbox.Count);
                    var reporter = new Progress<int>(done => task.Value = done);
                    result = await fetcher.FetchAsync(mailbox, context.Get(keep), reporter, context.CancellationToken);
                });
            }
            else
            {
                result = await fetcher.FetchAsync(mailbox, context.Get(keep), null, context.CancellationToken);
            }

            if (context.Json)
            {
                context.WriteJson(new { maildir = writer.Location, downloaded = result.Downloaded, deleted = result.Deleted, skipped = result.Skipped, files = result.Files });
            }
            else
            {
                context.Out.WriteLine($"{result.Downloaded} new message(s) into {writer.Location}; {result.Deleted} deleted on the server; {result.Skipped} already downloaded");
            }

            return ExitCodes.Ok;
        });
    }
}