using System.Net;
using System.Text;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using Pochta.Core;
using Pochta.Delivery.Inbound;
using Pochta.Delivery.Outbound;
using Pochta.Delivery.Tests.Fakes;
using Pochta.Storage;
using Pochta.Storage.Sqlite;

namespace Pochta.Delivery.Tests;

/// <summary>Local delivery under quota over the real store: transactions racing for the last
/// octets of a mailbox never pass its limit, every loser bounces exactly once, and the other
/// recipients of each transaction always get their copy.</summary>
public sealed class InboundQuotaTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _dir = Directory.CreateTempSubdirectory("pochta-inbound-quota-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 20, 0, 0, TimeSpan.Zero));
    private SqliteMailStore _store = null!;
    private InboundDelivery _delivery = null!;

    public async Task InitializeAsync()
    {
        _store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir }, _time);
        await _store.InitializeAsync(Ct);
        await _store.Directory.AddDomainAsync("example.org", Ct);
        await _store.Directory.AddAccountAsync("alice@example.org", "c", 0, Ct);
        await _store.Directory.AddAccountAsync("bob@example.org", "c", 0, Ct);
        var signal = new OutboundQueueSignal();
        var indexer = new NullIndexer();
        _delivery = new InboundDelivery(
            _store,
            indexer,
            new RecipientResolver(_store, Options.Create(new InboundOptions())),
            signal,
            _time,
            new DsnSender(_store, indexer, signal, NullLogger<DsnSender>.Instance));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static EmailAddress Address(string text) => EmailAddress.TryParse(text, out var a) ? a : throw new ArgumentException(text);

    private async Task<(InboundTransaction Transaction, Exception? Error)> SendAsync(params string[] recipients)
    {
        var t = _delivery.Begin(new InboundEnvelope(Address("sender@remote.example"), "env", false));
        foreach (var r in recipients)
        {
            Assert.Equal(RecipientVerdict.Accepted, await t.AddRecipientAsync(Address(r), null, null, mayRelay: false, Ct));
        }

        await t.StartBodyAsync(new TraceInfo("client.example", IPAddress.Parse("192.0.2.10"), "ESMTP", null, "mx.example.org"), Ct);
        await t.WriteAsync(Encoding.ASCII.GetBytes("Subject: race\r\n\r\n" + new string('r', 2000) + "\r\n"), Ct);
        try
        {
            await t.CommitAsync(Ct);
            return (t, null);
        }
        catch (QuotaExceededException e)
        {
            return (t, e);
        }
    }

    private async Task<QuotaUsage> UsageAsync(string address) =>
        (await _store.Directory.GetQuotaUsageAsync((await _store.Directory.FindAccountAsync(address, Ct))!.Id, Ct))!;

    [Fact]
    public async Task Racing_transactions_fill_the_mailbox_exactly_and_bounce_the_rest_once_each()
    {
        var (first, error) = await SendAsync("alice@example.org", "bob@example.org");
        Assert.Null(error);
        await first.DisposeAsync();
        var size = (await UsageAsync("alice@example.org")).UsedBytes;

        // Room for two more of the same size (every stamp has the same length).
        await _store.Directory.SetQuotaAsync("alice@example.org", (3 * size) + (size / 2), 0, Ct);
        const int n = 10;
        var results = await Task.WhenAll(Enumerable.Range(0, n).Select(_ => Task.Run(() => SendAsync("alice@example.org", "bob@example.org"))));
        Assert.All(results, r => Assert.Null(r.Error));
        Assert.Equal(n - 2, results.Count(r => r.Transaction.QuotaFailures.Count == 1));
        Assert.All(results.SelectMany(r => r.Transaction.QuotaFailures), f => Assert.Equal(("alice@example.org", QuotaResource.Storage), (f.Address, f.Resource)));

        Assert.Equal((3 * size, 3L), ((await UsageAsync("alice@example.org")).UsedBytes, (await UsageAsync("alice@example.org")).UsedMessages));
        Assert.Equal(n + 1, (await UsageAsync("bob@example.org")).UsedMessages);

        // One failure DSN per loser, queued to the remote sender from <>.
        var dsns = await _store.Queue.ListAsync(Ct);
        Assert.Equal(n - 2, dsns.Count);
        Assert.All(dsns, d => Assert.Equal(("", "sender@remote.example"), (d.Sender, Assert.Single(d.Recipients).Address)));
        foreach (var r in results)
        {
            await r.Transaction.DisposeAsync();
        }
    }

    [Fact]
    public async Task When_every_local_recipient_is_full_nothing_is_stored_and_nothing_bounces()
    {
        // Neither is full at RCPT (no SIZE declared), and neither can take the message at commit.
        var (seed, seedError) = await SendAsync("bob@example.org");
        Assert.Null(seedError);
        await seed.DisposeAsync();
        var bobLimit = (await UsageAsync("bob@example.org")).UsedBytes + 100;
        await _store.Directory.SetQuotaAsync("bob@example.org", bobLimit, 0, Ct);
        await _store.Directory.SetQuotaAsync("alice@example.org", 100, 0, Ct);

        var (t, error) = await SendAsync("alice@example.org", "bob@example.org");
        await using (t)
        {
            Assert.IsType<QuotaExceededException>(error);
            Assert.Equal(
                [("alice@example.org", QuotaResource.Storage, 100L), ("bob@example.org", QuotaResource.Storage, bobLimit)],
                t.QuotaFailures.Select(f => (f.Address, f.Resource, f.Limit)).Order());
        }

        Assert.Equal(0, (await UsageAsync("alice@example.org")).UsedMessages);
        Assert.Equal(1, (await UsageAsync("bob@example.org")).UsedMessages);
        Assert.Empty(await _store.Queue.ListAsync(Ct));
    }
}