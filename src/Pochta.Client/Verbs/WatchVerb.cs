using System.CommandLine;
using System.Globalization;

using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;

using Pochta.Client.Cli;

namespace Pochta.Client.Verbs;

/// <summary><c>mail watch [FOLDER] [--count N]</c>: prints each new message as it arrives, using
/// IDLE (RFC 2177, re-issued every 9 minutes as §3 advises) or NOOP polling without it.</summary>
internal static class WatchVerb
{
    private static readonly TimeSpan IdleRestart = TimeSpan.FromMinutes(9);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var folder = new Argument<string?>("folder") { Description = "Folder (default INBOX)", Arity = ArgumentArity.ZeroOrOne };
        var count = new Option<int?>("--count") { Description = "Stop after this many new messages" };
        var command = new Command("watch", "Print new messages as they arrive (Ctrl+C stops)") { folder, count };
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            var imap = await context.ImapAsync(account);
            var mailbox = await Folders.OpenAsync(imap, context.Get(folder), FolderAccess.ReadOnly, context.CancellationToken);
            var limit = context.Get(count);
            var seen = 0;
            var last = (await mailbox.SearchAsync(SearchQuery.All, context.CancellationToken)).Select(u => u.Id).DefaultIfEmpty(0u).Max();
            if (!context.Json)
            {
                await context.Error.WriteLineAsync($"watching {mailbox.FullName} (Ctrl+C stops)");
            }

            try
            {
                while (limit is null || seen < limit)
                {
                    await WaitForChangeAsync(imap, mailbox, context.CancellationToken);
                    var fresh = (await mailbox.SearchAsync(SearchQuery.Uids(new UniqueIdRange(new UniqueId(last + 1), UniqueId.MaxValue)), context.CancellationToken))
                        .Where(u => u.Id > last).ToList();
                    if (fresh.Count == 0)
                    {
                        continue;
                    }

                    last = fresh.Max(u => u.Id);
                    var summaries = await mailbox.FetchAsync(fresh, MessageViews.ListItems, context.CancellationToken);
                    foreach (var summary in summaries.OrderBy(s => s.UniqueId.Id))
                    {
                        var view = MessageViews.ToView(summary);
                        if (context.Json)
                        {
                            context.WriteJson(view);
                        }
                        else
                        {
                            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{view.Uid}\t{view.Date:yyyy-MM-dd HH:mm}\t{view.From}\t{view.Subject}"));
                        }

                        await context.Out.FlushAsync(context.CancellationToken);
                        if (++seen == limit)
                        {
                            break;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: a normal end of watching.
            }

            return ExitCodes.Ok;
        });
    }

    private static async Task WaitForChangeAsync(ImapClient imap, IMailFolder mailbox, CancellationToken cancellationToken)
    {
        if (!imap.Capabilities.HasFlag(ImapCapabilities.Idle))
        {
            await Task.Delay(PollInterval, cancellationToken);
            await imap.NoOpAsync(cancellationToken);
            return;
        }

        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        done.CancelAfter(IdleRestart);
        void OnChange(object? sender, EventArgs e) => done.Cancel();
        mailbox.CountChanged += OnChange;
        try
        {
            await imap.IdleAsync(done.Token, cancellationToken);
        }
        finally
        {
            mailbox.CountChanged -= OnChange;
        }
    }
}