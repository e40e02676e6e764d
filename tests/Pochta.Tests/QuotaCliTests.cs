using System.Text;
using System.Text.Json;

using Pochta.Configuration;
using Pochta.Core;
using Pochta.Mime;
using Pochta.Storage;

namespace Pochta.Tests;

/// <summary><c>pochta user quota</c> and the usage columns of <c>user list</c>.</summary>
public sealed class QuotaCliTests : IDisposable
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

    /// <summary>Stores one message of <paramref name="size"/> octets in the account's INBOX.</summary>
    private async Task DeliverAsync(string address, int size)
    {
        await using var admin = await AdminContext.OpenAsync(new ConfigurationInput(_dir.Data, Environment: new Dictionary<string, string?>()), CancellationToken.None);
        var store = admin.Store;
        var account = (await store.Directory.FindAccountAsync(address, CancellationToken.None))!;
        var inbox = (await store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", CancellationToken.None))!;
        var head = "From: a@remote.example\r\nSubject: q\r\n\r\n";
        var bytes = Encoding.ASCII.GetBytes(head + new string('x', size - head.Length - 2) + "\r\n");
        await using var writer = store.Messages.CreateWriter();
        await writer.WriteAsync(bytes, CancellationToken.None);
        await using var staged = await writer.CompleteAsync(CancellationToken.None);
        await using var read = staged.OpenRead();
        var index = await new MessageIndexer().BuildIndexAsync(read, CancellationToken.None);
        await store.Messages.CommitAsync(new DeliveryRequest(staged, index, "a@remote.example", [new LocalDelivery(inbox.Id, MessageFlags.None, [], DateTimeOffset.UtcNow)], [], null), CancellationToken.None);
    }

    [Fact]
    public async Task Quota_shows_usage_changes_limits_and_list_shows_usage()
    {
        await Run("domain", "add", "example.com");
        Assert.Equal(0, (await CliRunner.RunAsync(["user", "add", "gina@example.com", "--password-stdin", "--quota-mb", "2", "--data", _dir.Data], "pw")).ExitCode);
        await DeliverAsync("gina@example.com", 300 * 1024);

        var shown = await Json("user", "quota", "gina@example.com");
        Assert.Equal(2, shown.GetProperty("quotaMb").GetInt64());
        Assert.Equal(300 * 1024, shown.GetProperty("usedBytes").GetInt64());
        Assert.Equal(1, shown.GetProperty("usedMessages").GetInt64());
        Assert.False(shown.GetProperty("changed").GetBoolean());

        var text = await Run("user", "quota", "gina@example.com");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("300 KiB of 2 MiB (14%), 1 messages", text.Out, StringComparison.Ordinal);

        // --messages alone keeps the storage limit; --mb alone keeps the message limit.
        var set = await Json("user", "quota", "gina@example.com", "--messages", "10");
        Assert.True(set.GetProperty("changed").GetBoolean());
        Assert.Equal(2, set.GetProperty("quotaMb").GetInt64());
        Assert.Equal(10, set.GetProperty("quotaMessages").GetInt64());
        set = await Json("user", "quota", "gina@example.com", "--mb", "0");
        Assert.Equal(0, set.GetProperty("quotaMb").GetInt64());
        Assert.Equal(10, set.GetProperty("quotaMessages").GetInt64());

        await Run("user", "quota", "gina@example.com", "--mb", "1");
        var gina = Assert.Single((await Json("user", "list")).EnumerateArray());
        Assert.Equal(1, gina.GetProperty("quotaMb").GetInt64());
        Assert.Equal(10, gina.GetProperty("quotaMessages").GetInt64());
        Assert.Equal(300 * 1024, gina.GetProperty("usedBytes").GetInt64());
        Assert.Equal(1, gina.GetProperty("usedMessages").GetInt64());

        var table = await Run("user", "list");
        Assert.Contains("300 KiB of 1 MiB (29%)", table.Out, StringComparison.Ordinal);
        Assert.Contains("1 / 10", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quota_refusals_exit_1()
    {
        await Run("domain", "add", "example.com");
        await CliRunner.RunAsync(["user", "add", "hal@example.com", "--password-stdin", "--data", _dir.Data], "pw");
        foreach (var (args, mention) in new (string[], string)[]
        {
            (["user", "quota", "nobody@example.com", "--mb", "5"], "not found"),
            (["user", "quota", "hal@example.com", "--mb", "-1"], "--mb"),
            (["user", "quota", "hal@example.com", "--messages", "-3"], "--messages"),
            (["user", "quota", "not-an-address"], "not a valid mail address"),
        })
        {
            var result = await Run(args);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains(mention, result.Err, StringComparison.Ordinal);
        }
    }
}