using System.Diagnostics;
using System.Text;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using MimeKit;

using Pochta.Delivery.Tests.Fakes;
using Pochta.Hosting;
using Pochta.Storage;
using Pochta.Storage.Sqlite;

namespace Pochta.Delivery.Tests;

/// <summary>The queue runner over the real embedded store: restarts, DSNs into a local INBOX,
/// and the one documented duplicate window.</summary>
public sealed class SqliteQueueTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pochta-outbound-").FullName;
    private readonly FakeSmtpServer _server = new();
    private readonly FakeTimeProvider _time = new(Harness.Start);
    private readonly FakeDns _dns = new();
    private readonly OutboundQueueSignal _signal = new();
    private readonly OutboundOptions _options = new() { ConnectTimeout = TimeSpan.FromDays(30), CommandTimeout = TimeSpan.FromSeconds(20) };

    public Task InitializeAsync()
    {
        _options.TransportMap["remote.test"] = _server.Endpoint;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<SqliteMailStore> OpenStoreAsync()
    {
        var store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir }, _time);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    private OutboundQueueService CreateService(IMailStore store)
    {
        var router = new OutboundRouter(_options, _dns);
        var delivery = new OutboundDelivery(
            store, router, _dns,
            new DsnSender(store, new Pochta.Mime.MessageIndexer(), _signal, NullLogger<DsnSender>.Instance),
            new DkimMessageSigner(null),
            Options.Create(_options),
            Options.Create(new ServerOptions { HostName = "mx.pochta.test" }),
            _time,
            NullLogger<OutboundDelivery>.Instance);
        return new OutboundQueueService(store, delivery, router, _signal, Options.Create(_options), _time, NullLogger<OutboundQueueService>.Instance);
    }

    /// <summary>Commits a message with remote recipients, as the SMTP side does after DATA.</summary>
    private static async Task<long> SubmitAsync(IMailStore store, string sender, params string[] recipients)
    {
        var writer = store.Messages.CreateWriter();
        await using (writer)
        {
            await writer.WriteAsync(Encoding.UTF8.GetBytes(Harness.AsciiMessage), CancellationToken.None);
            await using var staged = await writer.CompleteAsync(CancellationToken.None);
            var result = await store.Messages.CommitAsync(
                new DeliveryRequest(staged, new byte[] { 1 }, sender, [], recipients.Select(r => new QueuedRecipient(r, null, null)).ToList(), new DsnEnvelope(null, false)),
                CancellationToken.None);
            return result.QueueId!.Value;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    /// <summary>Runs the queue until every pending recipient has had <paramref name="attempts"/> attempts.</summary>
    private async Task RunUntilIdleAsync(IMailStore store, int attempts = 1)
    {
        using var service = CreateService(store);
        await service.StartAsync(CancellationToken.None);
        _signal.Notify();
        await WaitUntilAsync(async () => (await store.Queue.ListAsync(CancellationToken.None)).All(e => e.Recipients.All(r => r.Attempts >= attempts)), "an attempt for every recipient");
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Mail_queued_before_a_crash_is_delivered_exactly_once_after_restart()
    {
        long queueId;
        await using (var store = await OpenStoreAsync())
        {
            queueId = await SubmitAsync(store, "alice@pochta.test", "bob@remote.test", "carol@remote.test");

            // "Crash": the process goes away before the runner ever ran.
        }

        await using (var store = await OpenStoreAsync())
        {
            await RunUntilIdleAsync(store);
            Assert.Null(await store.Queue.GetAsync(queueId, CancellationToken.None));
        }

        await using (var store = await OpenStoreAsync())
        {
            // A further restart finds nothing to send: the outcome was committed.
            Assert.Empty(await store.Queue.ListAsync(CancellationToken.None));
            await RunUntilIdleAsync(store);
        }

        Assert.Equal(["bob@remote.test", "carol@remote.test"], Assert.Single(_server.Delivered).Accepted);
    }

    [Fact]
    public async Task A_refused_recipient_bounces_into_the_local_senders_inbox()
    {
        _server.RcptReply = a => a == "nobody@remote.test" ? "550 5.1.1 No such user" : "250 OK";
        await using var store = await OpenStoreAsync();
        await store.Directory.AddDomainAsync("pochta.test", CancellationToken.None);
        var alice = await store.Directory.AddAccountAsync("alice@pochta.test", "opaque-credential", 0, CancellationToken.None);
        await SubmitAsync(store, "alice@pochta.test", "bob@remote.test", "nobody@remote.test");

        await RunUntilIdleAsync(store);

        Assert.Empty(await store.Queue.ListAsync(CancellationToken.None));
        var inbox = await store.Mailboxes.FindMailboxAsync(alice.Id, "INBOX", CancellationToken.None);
        var entry = Assert.Single(await store.Mailboxes.ListMessagesAsync(inbox!.Id, CancellationToken.None));
        await using var raw = await store.Messages.OpenMessageAsync(entry.MessageId, CancellationToken.None);
        var dsn = await MimeMessage.LoadAsync(raw);
        var status = (MessageDeliveryStatus)((MultipartReport)dsn.Body!)[1];
        var block = Assert.Single(status.StatusGroups.Skip(1));
        Assert.Equal("rfc822; nobody@remote.test", block["Final-Recipient"]);
        Assert.Equal("5.1.1", block["Status"]);
        Assert.Equal("smtp; 550 5.1.1 No such user", block["Diagnostic-Code"]);
    }

    [Fact]
    public async Task A_remote_sender_gets_its_bounce_through_the_queue_with_the_null_sender()
    {
        _options.TransportMap["elsewhere.test"] = _server.Endpoint;
        _server.RcptReply = a => a == "nobody@remote.test" ? "550 5.1.1 No such user" : "250 OK";
        await using var store = await OpenStoreAsync();
        await SubmitAsync(store, "someone@elsewhere.test", "nobody@remote.test");
        using var service = CreateService(store);
        await service.StartAsync(CancellationToken.None);
        _signal.Notify();

        // The DSN is itself queued (sender <>) and delivered to the sender's domain.
        await WaitUntilAsync(() => Task.FromResult(_server.Delivered.Any()), "the DSN to be delivered");
        await WaitUntilAsync(async () => (await store.Queue.ListAsync(CancellationToken.None)).Count == 0, "an empty queue");
        await service.StopAsync(CancellationToken.None);

        var t = Assert.Single(_server.Delivered);
        Assert.StartsWith("MAIL FROM:<>", t.MailFrom, StringComparison.Ordinal);
        Assert.Equal(["someone@elsewhere.test"], t.Accepted);
        var dsn = MimeMessage.Load(new MemoryStream(t.Data!));
        Assert.Equal("delivery-status", Assert.IsType<MultipartReport>(dsn.Body).ReportType);
    }

    [Fact]
    public async Task A_break_after_the_final_dot_is_the_documented_duplicate_window()
    {
        // The remote server took the message but the connection dropped before its 250 reached
        // us (the same window as a crash between the remote 250 and our commit): the recipient
        // stays pending and the next attempt sends the message again. RFC 1047 accepts this
        // duplicate rather than risk a loss.
        _server.Drop = DropPoint.BeforeDataReply;
        await using var store = await OpenStoreAsync();
        var queueId = await SubmitAsync(store, "alice@pochta.test", "bob@remote.test");
        await RunUntilIdleAsync(store);
        var r = (await store.Queue.GetAsync(queueId, CancellationToken.None))!.Recipients.Single();
        Assert.Equal(RecipientState.Deferred, r.State);

        _server.Drop = DropPoint.None;
        _time.Advance(TimeSpan.FromMinutes(1));
        await RunUntilIdleAsync(store, attempts: 2);
        Assert.Null(await store.Queue.GetAsync(queueId, CancellationToken.None));
        Assert.Equal(2, _server.Transactions.Count(t => t.RcptLines.Count == 1));
    }

    [Fact]
    public async Task A_451_to_the_data_is_retried_on_the_schedule_and_the_message_delivered_once()
    {
        // RFC 5321 §4.2.5: a 4yz reply to the end of data means the message was not taken;
        // the recipient is deferred (first retry after 1 minute, fake time) and sent again.
        var replies = new Queue<string>(["451 4.3.0 Try again later", "250 2.0.0 Queued as 2"]);
        _server.DataReply = () => replies.Dequeue();
        await using var store = await OpenStoreAsync();
        var queueId = await SubmitAsync(store, "alice@pochta.test", "bob@remote.test");
        using var service = CreateService(store);
        await service.StartAsync(CancellationToken.None);
        _signal.Notify();

        await WaitUntilAsync(async () => (await store.Queue.GetAsync(queueId, CancellationToken.None))?.Recipients.Single().Attempts == 1, "the first attempt");
        var r = (await store.Queue.GetAsync(queueId, CancellationToken.None))!.Recipients.Single();
        Assert.Equal((RecipientState.Deferred, "451 4.3.0 Try again later", Harness.Start + TimeSpan.FromMinutes(1)), (r.State, r.LastReply, r.NextAttemptAt!.Value));

        _time.Advance(TimeSpan.FromSeconds(59));
        _signal.Notify();
        await Task.Delay(300);
        Assert.Equal(1, (await store.Queue.GetAsync(queueId, CancellationToken.None))!.Recipients.Single().Attempts); // not before its time

        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(async () => await store.Queue.GetAsync(queueId, CancellationToken.None) is null, "delivery on the retry");
        await service.StopAsync(CancellationToken.None);

        Assert.Empty(replies);
        Assert.Equal(2, _server.Transactions.Count(t => t.RcptLines.Count == 1));
        Assert.Equal(["bob@remote.test"], Assert.Single(_server.Delivered).Accepted);
    }
}