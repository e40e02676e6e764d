using System.Text;
using System.Text.Json;

using Pochta.Configuration;
using Pochta.Core;
using Pochta.Mime;
using Pochta.Storage;

namespace Pochta.Tests;

/// <summary><c>pochta queue ...</c> and <c>user remove</c> against a store holding mail.</summary>
public sealed class QueueCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<CliResult> Run(params string[] args) => CliRunner.RunAsync([.. args, "--data", _dir.Data]);

    private async Task<JsonElement> Json(params string[] args)
    {
        var result = await Run([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.Err);
        return JsonDocument.Parse(result.Out).RootElement.Clone();
    }

    /// <summary>Commits one message as SMTP would: local copies and/or remote recipients.</summary>
    private async Task<DeliveryResult> DeliverAsync(IReadOnlyList<LocalDelivery> local, IReadOnlyList<string> remote, string sender = "alice@example.com")
    {
        await using var admin = await AdminContext.OpenAsync(new ConfigurationInput(_dir.Data, Environment: new Dictionary<string, string?>()), CancellationToken.None);
        return await DeliverAsync(admin.Store, local, remote, sender);
    }

    private static async Task<DeliveryResult> DeliverAsync(IMailStore store, IReadOnlyList<LocalDelivery> local, IReadOnlyList<string> remote, string sender)
    {
        var bytes = Encoding.ASCII.GetBytes($"From: {sender}\r\nTo: someone@remote.example\r\nSubject: queued\r\n\r\nHello.\r\n");
        await using var writer = store.Messages.CreateWriter();
        await writer.WriteAsync(bytes, CancellationToken.None);
        await using var staged = await writer.CompleteAsync(CancellationToken.None);
        await using var read = staged.OpenRead();
        var index = await new MessageIndexer().BuildIndexAsync(read, CancellationToken.None);
        return await store.Messages.CommitAsync(
            new DeliveryRequest(staged, index, sender, local, remote.Select(r => new QueuedRecipient(r, null, null)).ToList(), null),
            CancellationToken.None);
    }

    [Fact]
    public async Task List_show_retry_flush_delete()
    {
        Assert.Equal(0, (await Run("domain", "add", "example.com")).ExitCode);
        var first = (await DeliverAsync([], ["bob@remote.example", "carol@remote.example"])).QueueId!.Value;
        var second = (await DeliverAsync([], ["dan@other.example"], sender: "")).QueueId!.Value;

        // Defer one recipient an hour into the future, as a 4xx from the remote would.
        await using (var admin = await AdminContext.OpenAsync(new ConfigurationInput(_dir.Data, Environment: new Dictionary<string, string?>()), CancellationToken.None))
        {
            var entry = (await admin.Store.Queue.GetAsync(first, CancellationToken.None))!;
            var bob = entry.Recipients.Single(r => r.Address == "bob@remote.example");
            await admin.Store.Queue.RecordOutcomesAsync(
                first,
                [new RecipientOutcome(bob.Id, RecipientState.Deferred, "451 4.7.1 greylisted", "mx.remote.example", DateTimeOffset.UtcNow.AddHours(1), false)],
                CancellationToken.None);
        }

        var list = await Json("queue", "list");
        Assert.Equal([first, second], list.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).Order());
        var shown = await Json("queue", "show", first.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var deferred = shown.GetProperty("recipients").EnumerateArray().Single(r => r.GetProperty("address").GetString() == "bob@remote.example");
        Assert.Equal("Deferred", deferred.GetProperty("state").GetString());
        Assert.Equal("451 4.7.1 greylisted", deferred.GetProperty("lastReply").GetString());
        Assert.True(deferred.GetProperty("nextAttemptAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(30));

        var table = await Run("queue", "list");
        Assert.Contains("greylisted", table.Out, StringComparison.Ordinal);
        Assert.Contains("<>", table.Out, StringComparison.Ordinal);

        var retry = await Json("queue", "retry", first.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, retry.GetProperty("rescheduled").GetInt32());
        shown = await Json("queue", "show", first.ToString(System.Globalization.CultureInfo.InvariantCulture));
        deferred = shown.GetProperty("recipients").EnumerateArray().Single(r => r.GetProperty("address").GetString() == "bob@remote.example");
        Assert.True(deferred.GetProperty("nextAttemptAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow.AddSeconds(5));

        Assert.Equal(2, (await Json("queue", "flush")).GetProperty("rescheduled").GetInt32());
        Assert.Equal(2, (await Json("queue", "retry", "--all")).GetProperty("rescheduled").GetInt32());

        Assert.Equal(0, (await Run("queue", "delete", second.ToString(System.Globalization.CultureInfo.InvariantCulture))).ExitCode);
        Assert.Equal([first], (await Json("queue", "list")).EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Unknown_entries_and_ambiguous_retry_are_refused()
    {
        foreach (var args in new[] { new[] { "queue", "show", "999" }, ["queue", "retry", "999"], ["queue", "delete", "999"], ["queue", "retry"], ["queue", "retry", "1", "--all"] })
        {
            var result = await Run(args);
            Assert.True(result.ExitCode == 1, $"{string.Join(' ', args)}: {result.ExitCode} {result.Err}");
            Assert.StartsWith("pochta: ", Assert.Single(result.ErrLines), StringComparison.Ordinal);
        }

        Assert.Empty((await Json("queue", "list")).EnumerateArray());
        Assert.Equal(0, (await Json("queue", "flush")).GetProperty("rescheduled").GetInt32());
    }

    [Fact]
    public async Task Removing_a_user_who_owns_mail_needs_force()
    {
        await Run("domain", "add", "example.com");
        await CliRunner.RunAsync(["user", "add", "erin@example.com", "--password-stdin", "--data", _dir.Data], "pw");
        await using (var admin = await AdminContext.OpenAsync(new ConfigurationInput(_dir.Data, Environment: new Dictionary<string, string?>()), CancellationToken.None))
        {
            var account = (await admin.Store.Directory.FindAccountAsync("erin@example.com", CancellationToken.None))!;
            var inbox = (await admin.Store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", CancellationToken.None))!;
            await DeliverAsync(admin.Store, [new LocalDelivery(inbox.Id, MessageFlags.None, [], DateTimeOffset.UtcNow)], [], "someone@remote.example");
        }

        var inboxRow = (await Json("mailbox", "list", "erin@example.com")).EnumerateArray().Single(m => m.GetProperty("name").GetString() == "INBOX");
        Assert.Equal(1, inboxRow.GetProperty("messages").GetInt32());

        var refused = await Run("user", "remove", "erin@example.com");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--force", refused.Err, StringComparison.Ordinal);
        Assert.Equal(0, (await Run("user", "remove", "erin@example.com", "--force")).ExitCode);
        Assert.Empty((await Json("user", "list")).EnumerateArray());
    }
}