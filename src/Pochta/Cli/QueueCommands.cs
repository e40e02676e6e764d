using System.CommandLine;
using System.Globalization;

using Pochta.Storage;

using Spectre.Console;

namespace Pochta.Cli;

/// <summary><c>queue</c>: the outbound queue, edited in the store. A running server's queue
/// runner picks changes up on its next scan.</summary>
internal static class QueueCommands
{
    public static Command Create(CommandContext context)
    {
        var queue = new Command("queue", "The outbound queue");
        var id = new Argument<long>("ID") { Description = "Queue entry id (see queue list)" };
        var optionalId = new Argument<long?>("ID") { Description = "Queue entry id", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every entry" };

        var list = new Command("list", "Queued messages: id, age, sender, recipients, status, next attempt, last error");
        list.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var entries = await admin.Store.Queue.ListAsync(ct);
            var now = DateTimeOffset.UtcNow;
            if (context.Json(result))
            {
                context.Console.WriteJson(entries.Select(EntryJson));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("ID", "Age", "Sender", "Recipients", "Status", "Next attempt", "Last error");
            foreach (var e in entries)
            {
                var pending = e.Recipients.Where(r => r.State is RecipientState.Queued or RecipientState.Deferred).ToList();
                var next = pending.Select(r => r.NextAttemptAt).Where(t => t is not null).Min();
                var lastError = e.Recipients.Select(r => r.LastReply).LastOrDefault(r => r is not null);
                table.AddRow(
                    e.Id.ToString(CultureInfo.InvariantCulture),
                    Age(now - e.CreatedAt),
                    Markup.Escape(e.Sender.Length == 0 ? "<>" : e.Sender),
                    Markup.Escape(string.Join(", ", e.Recipients.Select(r => r.Address))),
                    Status(e),
                    next is null ? "" : DirectoryCommands.Date(next.Value),
                    Markup.Escape(Shorten(lastError ?? "", 60)));
            }

            context.Console.Ansi.Write(table);
            return ExitCodes.Success;
        }, ct));

        var show = new Command("show", "One queue entry with every recipient") { id };
        show.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var entryId = result.GetValue(id);
            var entry = await admin.Store.Queue.GetAsync(entryId, ct) ?? throw NotFound(entryId);
            if (context.Json(result))
            {
                context.Console.WriteJson(EntryJson(entry));
                return ExitCodes.Success;
            }

            var console = context.Console;
            console.Line($"queue entry {entry.Id}");
            console.Line($"  sender:      {(entry.Sender.Length == 0 ? "<>" : entry.Sender)}");
            console.Line($"  queued:      {DirectoryCommands.Date(entry.CreatedAt)}");
            console.Line($"  message id:  {entry.MessageId.ToString(CultureInfo.InvariantCulture)}");
            if (entry.EnvelopeId is not null)
            {
                console.Line($"  ENVID:       {entry.EnvelopeId}");
            }

            console.Line($"  RET:         {(entry.ReturnFullMessage ? "FULL" : "HDRS")}");
            var table = new Table().AddColumns("Recipient", "State", "Attempts", "Next attempt", "Remote host", "Last reply");
            foreach (var r in entry.Recipients)
            {
                table.AddRow(
                    Markup.Escape(r.Address),
                    r.State.ToString(),
                    r.Attempts.ToString(CultureInfo.InvariantCulture),
                    r.NextAttemptAt is { } t ? DirectoryCommands.Date(t) : "",
                    Markup.Escape(r.RemoteHost ?? ""),
                    Markup.Escape(r.LastReply ?? ""));
            }

            console.Ansi.Write(table);
            return ExitCodes.Success;
        }, ct));

        var retry = new Command("retry", "Make an entry (or --all) due now") { optionalId, all };
        retry.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var entryId = result.GetValue(optionalId);
            var everything = result.GetValue(all);
            if (entryId is null == !everything)
            {
                throw new CliRefusedException("give a queue entry ID or --all (not both)");
            }

            if (entryId is { } single && await admin.Store.Queue.GetAsync(single, ct) is null)
            {
                throw NotFound(single);
            }

            var touched = await admin.Store.Queue.RescheduleNowAsync(entryId, ct);
            Report(context, result, touched);
            return ExitCodes.Success;
        }, ct));

        var delete = new Command("delete", "Remove an entry without delivering it or bouncing") { id };
        delete.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            var entryId = result.GetValue(id);
            if (!await admin.Store.Queue.DeleteAsync(entryId, ct))
            {
                throw NotFound(entryId);
            }

            if (context.Json(result))
            {
                context.Console.WriteJson(new { Id = entryId, Deleted = true });
            }
            else
            {
                context.Console.Line($"queue entry {entryId.ToString(CultureInfo.InvariantCulture)} deleted");
            }

            return ExitCodes.Success;
        }, ct));

        var flush = new Command("flush", "Retry every pending recipient now");
        flush.SetAction((result, ct) => context.WithStoreAsync(result, async admin =>
        {
            Report(context, result, await admin.Store.Queue.RescheduleNowAsync(null, ct));
            return ExitCodes.Success;
        }, ct));

        queue.Subcommands.Add(list);
        queue.Subcommands.Add(show);
        queue.Subcommands.Add(retry);
        queue.Subcommands.Add(delete);
        queue.Subcommands.Add(flush);
        return queue;
    }

    private static CliRefusedException NotFound(long id) => new($"queue entry {id.ToString(CultureInfo.InvariantCulture)} not found");

    private static void Report(CommandContext context, ParseResult result, int touched)
    {
        if (context.Json(result))
        {
            context.Console.WriteJson(new { Rescheduled = touched });
        }
        else
        {
            context.Console.Line($"{touched.ToString(CultureInfo.InvariantCulture)} queue entr{(touched == 1 ? "y" : "ies")} due now; a running server delivers on its next queue scan");
        }
    }

    private static object EntryJson(QueueEntryInfo e) => new
    {
        e.Id,
        e.MessageId,
        e.Sender,
        e.EnvelopeId,
        e.ReturnFullMessage,
        e.CreatedAt,
        Recipients = e.Recipients.Select(r => new
        {
            r.Address,
            State = r.State.ToString(),
            r.Attempts,
            r.NextAttemptAt,
            r.LastReply,
            r.RemoteHost,
            r.Notify,
            r.OriginalRecipient,
        }),
    };

    private static string Status(QueueEntryInfo e) =>
        string.Join(", ", e.Recipients.GroupBy(r => r.State).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));

    private static string Age(TimeSpan age) => age switch
    {
        { TotalMinutes: < 1 } => "<1m",
        { TotalHours: < 1 } => ((int)age.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m",
        { TotalDays: < 1 } => ((int)age.TotalHours).ToString(CultureInfo.InvariantCulture) + "h",
        _ => ((int)age.TotalDays).ToString(CultureInfo.InvariantCulture) + "d",
    };

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}