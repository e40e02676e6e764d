using System.Net;
using System.Net.Sockets;
using System.Text;

using MimeKit;

using Pochta.Delivery.Tests.Fakes;
using Pochta.Storage;

namespace Pochta.Delivery.Tests;

/// <summary>End-to-end attempts against the scripted remote server, routed by the transport map.</summary>
public sealed class DeliveryTests : IAsyncLifetime
{
    private readonly Harness _h = new();
    private readonly FakeSmtpServer _server = new();

    public Task InitializeAsync()
    {
        _h.Options.TransportMap["remote.test"] = _server.Endpoint;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _h.Dispose();
    }

    private QueueEntryInfo Enqueue(string sender, params string[] recipients) =>
        _h.Store.Enqueue(sender, Harness.Message, _h.Time.GetUtcNow(), recipients);

    private static MessageDeliveryStatus StatusOf(MimeMessage dsn) => (MessageDeliveryStatus)((MultipartReport)dsn.Body!)[1];

    /// <summary>The per-recipient blocks. MimeKit's writer ends the part with an empty line,
    /// which its parser reads back as an empty trailing group: it is skipped.</summary>
    private static List<HeaderList> Blocks(MimeMessage dsn) => StatusOf(dsn).StatusGroups.Skip(1).ToList();

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public async Task Return_path_of_the_shared_local_copy_is_not_relayed()
    {
        // RFC 5321 §4.4: the blob shared with local recipients starts with their Return-Path.
        var entry = _h.Store.Enqueue("alice@pochta.test", "Return-Path: <alice@pochta.test>\r\n" + Harness.Message, _h.Time.GetUtcNow(), ["bob@remote.test"]);
        await _h.RunAsync(entry.Id);

        var t = Assert.Single(_server.Transactions);
        Assert.Equal(Encoding.UTF8.GetBytes(Harness.Message), t.Data);
    }

    [Fact]
    public async Task All_recipients_go_in_one_transaction_and_are_recorded_delivered()
    {
        var entry = Enqueue("alice@pochta.test", "bob@remote.test", "carol@remote.test");
        await _h.RunAsync(entry.Id);

        var t = Assert.Single(_server.Transactions);
        Assert.Equal("MAIL FROM:<alice@pochta.test>", t.MailFrom[..Math.Min(t.MailFrom.Length, 29)]);
        Assert.Equal(["bob@remote.test", "carol@remote.test"], t.Accepted);
        Assert.Equal(Encoding.UTF8.GetBytes(Harness.Message), t.Data);
        foreach (var address in new[] { "bob@remote.test", "carol@remote.test" })
        {
            var r = _h.Recipient(entry.Id, address);
            Assert.Equal(RecipientState.Delivered, r.State);
            Assert.Equal("250 2.0.0 Queued as 1", r.LastReply);
            Assert.Equal("127.0.0.1", r.RemoteHost);
        }

        Assert.Null(_h.Store.Entry(entry.Id)); // every recipient final: the entry left the queue
        Assert.Empty(_h.QueuedDsns());
    }

    [Fact]
    public async Task Mixed_replies_are_handled_per_recipient_with_a_dsn_for_the_failed_one_only()
    {
        _server.RcptReply = a => a switch
        {
            "nobody@remote.test" => "550 5.1.1 No such user",
            "later@remote.test" => "452 4.2.2 Mailbox full",
            _ => "250 2.1.5 OK",
        };
        var entry = Enqueue("sender@elsewhere.test", "bob@remote.test", "nobody@remote.test", "later@remote.test");
        await _h.RunAsync(entry.Id);

        Assert.Equal(["bob@remote.test"], Assert.Single(_server.Delivered).Accepted);
        Assert.Equal(RecipientState.Delivered, _h.Recipient(entry.Id, "bob@remote.test").State);
        var failed = _h.Recipient(entry.Id, "nobody@remote.test");
        Assert.Equal(RecipientState.Failed, failed.State);
        Assert.Equal("550 5.1.1 No such user", failed.LastReply);
        var deferred = _h.Recipient(entry.Id, "later@remote.test");
        Assert.Equal(RecipientState.Deferred, deferred.State);
        Assert.Equal(_h.Time.GetUtcNow() + TimeSpan.FromMinutes(1), deferred.NextAttemptAt);

        var dsn = Assert.Single(_h.QueuedDsns());
        var entryOfDsn = _h.Store.Entries().Single(e => e.Sender.Length == 0);
        Assert.Equal("sender@elsewhere.test", Assert.Single(entryOfDsn.Recipients).Address); // from <> to the envelope sender
        var status = StatusOf(dsn);
        var block = Assert.Single(Blocks(dsn));
        Assert.Equal("rfc822; nobody@remote.test", block["Final-Recipient"]);
        Assert.Equal("failed", block["Action"]);
        Assert.Equal("5.1.1", block["Status"]);
        Assert.Equal("dns; 127.0.0.1", block["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 No such user", block["Diagnostic-Code"]);
        Assert.Equal("dns; mx.pochta.test", status.StatusGroups[0]["Reporting-MTA"]);
    }

    [Fact]
    public async Task A_temporary_rcpt_failure_defers_and_the_retry_succeeds()
    {
        var replies = new Queue<string>(["451 4.3.0 Try again later", "250 2.1.5 OK"]);
        _server.RcptReply = _ => replies.Dequeue();
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");

        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.Equal(1, r.Attempts);
        Assert.Equal(Harness.Start + TimeSpan.FromMinutes(1), r.NextAttemptAt);
        Assert.Equal("451 4.3.0 Try again later", r.LastReply);
        Assert.Empty(_server.Delivered);

        // Not due yet: nothing happens.
        await _h.RunAsync(entry.Id);
        Assert.Equal(1, _server.Connections);

        _h.Time.Advance(TimeSpan.FromMinutes(1));
        await _h.RunAsync(entry.Id);
        Assert.Single(_server.Delivered);
        Assert.Equal(RecipientState.Delivered, _h.Recipient(entry.Id, "bob@remote.test").State);
        Assert.Empty(_h.LocalDsns());
    }

    [Fact]
    public async Task Connection_refused_defers_with_the_schedule()
    {
        _h.Options.TransportMap["remote.test"] = "127.0.0.1:" + FreePort();
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.StartsWith("451 4.4.1 Connection to 127.0.0.1", r.LastReply, StringComparison.Ordinal);
        Assert.Equal(Harness.Start + TimeSpan.FromMinutes(1), r.NextAttemptAt);

        _h.Time.Advance(TimeSpan.FromMinutes(1));
        await _h.RunAsync(entry.Id);
        r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(2, r.Attempts);
        Assert.Equal(Harness.Start + TimeSpan.FromMinutes(1 + 5), r.NextAttemptAt);
    }

    [Theory]
    [InlineData(DropPoint.AfterGreeting)]
    [InlineData(DropPoint.AfterMailFrom)]
    [InlineData(DropPoint.BeforeDataReply)]
    public async Task A_dropped_connection_defers(DropPoint drop)
    {
        _server.Drop = drop;
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.StartsWith("451 4.4.2", r.LastReply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_given_up_after_the_command_timeout()
    {
        _h.Options.CommandTimeout = TimeSpan.FromSeconds(1);
        _server.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // never greets
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id).WaitAsync(TimeSpan.FromSeconds(20));
        var r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.StartsWith("451 4.4.", r.LastReply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_greeting_refusal_defers()
    {
        _server.Greeting = "554 5.3.2 Not accepting mail";
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.Equal(RecipientState.Deferred, _h.Recipient(entry.Id, "bob@remote.test").State);
    }

    [Fact]
    public async Task Mail_from_refusal_fails_every_recipient()
    {
        _server.MailReply = _ => "553 5.7.1 Sender rejected";
        var entry = Enqueue("alice@pochta.test", "bob@remote.test", "carol@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.All(new[] { "bob@remote.test", "carol@remote.test" }, a =>
            Assert.Equal("553 5.7.1 Sender rejected", _h.Recipient(entry.Id, a).LastReply));
        Assert.All(new[] { "bob@remote.test", "carol@remote.test" }, a =>
            Assert.Equal(RecipientState.Failed, _h.Recipient(entry.Id, a).State));
    }

    [Fact]
    public async Task Data_refusal_applies_to_the_accepted_recipients()
    {
        _server.DataReply = () => "554 5.6.0 Content rejected";
        _server.RcptReply = a => a == "x@remote.test" ? "550 5.1.1 Unknown" : "250 OK";
        var entry = Enqueue("alice@pochta.test", "bob@remote.test", "x@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.Equal("554 5.6.0 Content rejected", _h.Recipient(entry.Id, "bob@remote.test").LastReply);
        Assert.Equal("550 5.1.1 Unknown", _h.Recipient(entry.Id, "x@remote.test").LastReply);
    }

    [Fact]
    public async Task At_expiry_a_deferred_recipient_fails_with_a_failure_dsn()
    {
        _h.Options.TransportMap["remote.test"] = "127.0.0.1:" + FreePort();
        _h.Store.Domains.Add("pochta.test");
        _h.Store.Accounts["alice@pochta.test"] = 1;
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");

        _h.Time.Advance(TimeSpan.FromDays(5));
        await _h.RunAsync(entry.Id);

        var r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Failed, r.State);
        var dsn = Assert.Single(_h.LocalDsns());
        Assert.Equal(1001, _h.Store.LocalCopies.Single().MailboxId); // alice's INBOX
        var block = StatusOf(dsn).StatusGroups[1];
        Assert.Equal("failed", block["Action"]);
        Assert.StartsWith("4.4.", block["Status"], StringComparison.Ordinal); // a transient cause that ran out of time
        Assert.StartsWith("smtp; 451 4.4.1", block["Diagnostic-Code"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_four_hours_one_delay_dsn_is_sent_then_none_until_the_failure()
    {
        _h.Options.TransportMap["remote.test"] = "127.0.0.1:" + FreePort();
        var entry = Enqueue("sender@elsewhere.test", "bob@remote.test");

        await _h.RunAsync(entry.Id);
        Assert.Empty(_h.QueuedDsns());

        _h.Time.Advance(TimeSpan.FromHours(4));
        await _h.RunAsync(entry.Id);
        var dsn = Assert.Single(_h.QueuedDsns());
        var block = StatusOf(dsn).StatusGroups[1];
        Assert.Equal("delayed", block["Action"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(block["Will-Retry-Until"], out var until));
        Assert.Equal(Harness.Start + TimeSpan.FromDays(5), until);
        Assert.True(_h.Recipient(entry.Id, "bob@remote.test").DelayNotified);
        Assert.IsType<TextRfc822Headers>(((MultipartReport)dsn.Body!)[2]);

        _h.Time.Advance(TimeSpan.FromHours(4));
        await _h.RunAsync(entry.Id);
        Assert.Single(_h.QueuedDsns());
    }

    [Theory]
    [InlineData("FAILURE", false)]
    [InlineData("NEVER", false)]
    [InlineData("DELAY", true)]
    [InlineData(null, true)]
    public async Task Delay_dsn_only_where_notify_allows(string? notify, bool expected)
    {
        _h.Options.TransportMap["remote.test"] = "127.0.0.1:" + FreePort();
        var entry = _h.Store.Enqueue("sender@elsewhere.test", Encoding.UTF8.GetBytes(Harness.Message), _h.Time.GetUtcNow(), [new QueuedRecipient("bob@remote.test", notify, null)]);
        _h.Time.Advance(TimeSpan.FromHours(5));
        await _h.RunAsync(entry.Id);
        Assert.Equal(expected ? 1 : 0, _h.QueuedDsns().Count);
    }

    [Fact]
    public async Task Delay_dsn_when_notify_absent_is_configurable()
    {
        _h.Options.DelayNotificationWhenNotifyAbsent = false;
        _h.Options.TransportMap["remote.test"] = "127.0.0.1:" + FreePort();
        var entry = Enqueue("sender@elsewhere.test", "bob@remote.test");
        _h.Time.Advance(TimeSpan.FromHours(5));
        await _h.RunAsync(entry.Id);
        Assert.Empty(_h.QueuedDsns());
        Assert.True(_h.Recipient(entry.Id, "bob@remote.test").DelayNotified);
    }

    [Theory]
    [InlineData("NEVER", 0)]
    [InlineData("SUCCESS", 0)]
    [InlineData("DELAY", 0)]
    [InlineData("FAILURE", 1)]
    [InlineData("SUCCESS,FAILURE", 1)]
    [InlineData(null, 1)]
    public async Task Failure_dsn_only_where_notify_allows(string? notify, int expected)
    {
        _server.RcptReply = _ => "550 5.1.1 No such user";
        var entry = _h.Store.Enqueue("sender@elsewhere.test", Encoding.UTF8.GetBytes(Harness.Message), _h.Time.GetUtcNow(), [new QueuedRecipient("bob@remote.test", notify, null)]);
        await _h.RunAsync(entry.Id);
        Assert.Equal(RecipientState.Failed, _h.Recipient(entry.Id, "bob@remote.test").State);
        Assert.Equal(expected, _h.QueuedDsns().Count);
    }

    [Fact]
    public async Task No_dsn_is_ever_sent_for_a_null_sender()
    {
        _server.RcptReply = _ => "550 5.1.1 No such user";
        var entry = _h.Store.Enqueue("", Encoding.UTF8.GetBytes(Harness.Message), _h.Time.GetUtcNow(), [new QueuedRecipient("bob@remote.test", "SUCCESS,FAILURE,DELAY", null)]);
        await _h.RunAsync(entry.Id);
        Assert.Equal(RecipientState.Failed, _h.Recipient(entry.Id, "bob@remote.test").State);
        Assert.Equal("MAIL FROM:<>", _server.Transactions.Single().MailFrom[..12]);
        Assert.Empty(_h.Store.Entries());
        Assert.Empty(_h.Store.LocalCopies);
    }

    [Fact]
    public async Task Notify_success_to_a_server_without_dsn_gives_a_relayed_notice()
    {
        _server.Dsn = false;
        var entry = _h.Store.Enqueue("sender@elsewhere.test", Encoding.UTF8.GetBytes(Harness.Message), _h.Time.GetUtcNow(), [new QueuedRecipient("bob@remote.test", "SUCCESS", "rfc822;bob@remote.test")], "ENV-1", returnFull: true);
        await _h.RunAsync(entry.Id);
        var dsn = Assert.Single(_h.QueuedDsns());
        var status = StatusOf(dsn);
        Assert.Equal("ENV-1", status.StatusGroups[0]["Original-Envelope-Id"]);
        Assert.Equal("relayed", status.StatusGroups[1]["Action"]);
        Assert.Equal("rfc822; bob@remote.test", status.StatusGroups[1]["Original-Recipient"]);

        // RFC 3461 §4.3: RET=FULL concerns failure reports; a success report carries the header only.
        Assert.IsType<TextRfc822Headers>(((MultipartReport)dsn.Body!)[2]);

        // Without DSN on the remote side no DSN parameters go on the wire.
        var t = _server.Transactions.Single();
        Assert.DoesNotContain("ENVID", t.MailFrom, StringComparison.Ordinal);
        Assert.DoesNotContain("NOTIFY", t.RcptLines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dsn_parameters_are_relayed_to_a_server_with_dsn_and_it_takes_over_success_notices()
    {
        var entry = _h.Store.Enqueue("sender@elsewhere.test", Encoding.UTF8.GetBytes(Harness.Message), _h.Time.GetUtcNow(),
            [new QueuedRecipient("bob@remote.test", "SUCCESS,DELAY", "rfc822;Bob+2Bold@remote.test"), new QueuedRecipient("carol@remote.test", null, null)],
            "ENV+7", returnFull: true);
        await _h.RunAsync(entry.Id);

        var t = _server.Transactions.Single();
        Assert.Contains("RET=FULL", t.MailFrom, StringComparison.Ordinal);
        Assert.Contains("ENVID=ENV+2B7", t.MailFrom, StringComparison.Ordinal);
        var bob = t.RcptLines.Single(l => l.Contains("<bob@remote.test>", StringComparison.Ordinal));
        Assert.Contains("NOTIFY=SUCCESS,DELAY", bob, StringComparison.Ordinal);
        // RFC 3461 §4.2: the received ORCPT goes on unchanged, not one made from the RCPT address.
        Assert.EndsWith(" ORCPT=rfc822;Bob+2Bold@remote.test", bob, StringComparison.Ordinal);
        var carol = t.RcptLines.Single(l => l.Contains("<carol@remote.test>", StringComparison.Ordinal));
        Assert.DoesNotContain("NOTIFY", carol, StringComparison.Ordinal); // absent stays absent
        Assert.Empty(_h.QueuedDsns());
    }

    [Theory]
    [InlineData("rfc822;bob@remote.test", true)]
    [InlineData("rfc822;Bob+2Bold+3Dx@remote.test", true)]
    [InlineData("rfc822;bob+40remote.test", true)] // over-encoded ("@" as +40): still the same octets
    [InlineData("rfc822;list+2Bsub+20name@remote.test", false)]
    [InlineData("utf-8;b\\x{F6}b\\x{2B}x@remote.test", false)] // RFC 6533 utf-8-addr-xtext
    [InlineData("utf-8;b\\x{F6}b@remote.test", true)]
    public async Task A_received_orcpt_is_relayed_with_the_same_octets(string orcpt, bool smtpUtf8)
    {
        _server.SmtpUtf8 = smtpUtf8;
        var entry = _h.Store.Enqueue("sender@elsewhere.test", Encoding.UTF8.GetBytes(Harness.Message), _h.Time.GetUtcNow(),
            [new QueuedRecipient("bob@remote.test", "FAILURE", orcpt)]);
        await _h.RunAsync(entry.Id);

        var rcpt = Assert.Single(_server.Transactions.Single().RcptLines);
        Assert.Equal("RCPT TO:<bob@remote.test> NOTIFY=FAILURE ORCPT=" + orcpt, rcpt);
        Assert.Equal(RecipientState.Delivered, _h.Recipient(entry.Id, "bob@remote.test").State);
    }

    [Theory]
    [InlineData(true, "utf-8;b\u00f6b\u20ac@remote.test")]
    [InlineData(false, "utf-8;b\\x{F6}b\\x{20AC}@remote.test")]
    public async Task A_utf8_orcpt_in_unitext_form_goes_raw_with_smtputf8_and_as_utf8_addr_xtext_without(bool smtpUtf8, string expected)
    {
        // RFC 6533 §3: received with SMTPUTF8 as utf-8-addr-unitext (raw UTF-8); a server
        // without SMTPUTF8 gets the same address as utf-8-addr-xtext.
        _server.SmtpUtf8 = smtpUtf8;
        var entry = _h.Store.Enqueue("sender@elsewhere.test", Encoding.UTF8.GetBytes(Harness.Message), _h.Time.GetUtcNow(),
            [new QueuedRecipient("bob@remote.test", "SUCCESS,FAILURE", "utf-8;b\u00f6b\u20ac@remote.test")]);
        await _h.RunAsync(entry.Id);

        var rcpt = Assert.Single(_server.Transactions.Single().RcptLines);
        Assert.Equal("RCPT TO:<bob@remote.test> NOTIFY=SUCCESS,FAILURE ORCPT=" + expected, rcpt);
    }

    [Fact]
    public async Task An_orcpt_received_without_notify_is_relayed_too_and_absent_stays_absent()
    {
        var entry = _h.Store.Enqueue("sender@elsewhere.test", Encoding.UTF8.GetBytes(Harness.Message), _h.Time.GetUtcNow(),
            [new QueuedRecipient("bob@remote.test", null, "rfc822;Bob@remote.test"), new QueuedRecipient("carol@remote.test", null, null),
             new QueuedRecipient("dave@remote.test", "FAILURE", null)]);
        await _h.RunAsync(entry.Id);

        var lines = _server.Transactions.Single().RcptLines;
        Assert.Equal("RCPT TO:<bob@remote.test> ORCPT=rfc822;Bob@remote.test", lines[0]);
        Assert.Equal("RCPT TO:<carol@remote.test>", lines[1]);

        // Nothing received: MailKit's own ORCPT from the RCPT address (RFC 3461 §4.2 allows it).
        Assert.Equal("RCPT TO:<dave@remote.test> NOTIFY=FAILURE ORCPT=rfc822;dave@remote.test", lines[2]);
    }

    [Fact]
    public async Task Orcpt_is_relayed_over_starttls_and_message_lines_that_look_like_rcpt_are_left_alone()
    {
        _server.StartTls = true;
        const string Body = "RCPT TO:<bob@remote.test> ORCPT=rfc822;forged@remote.test\r\n.\r\nDATA\r\n";
        var message = Encoding.UTF8.GetBytes(Harness.Message.TrimEnd() + "\r\n" + Body);
        var entry = _h.Store.Enqueue("sender@elsewhere.test", message, _h.Time.GetUtcNow(),
            [new QueuedRecipient("bob@remote.test", "FAILURE", "rfc822;Bob+2Bx@remote.test")]);
        await _h.RunAsync(entry.Id);

        var t = _server.Transactions.Single();
        Assert.True(t.Tls);
        Assert.Equal("RCPT TO:<bob@remote.test> NOTIFY=FAILURE ORCPT=rfc822;Bob+2Bx@remote.test", t.RcptLines.Single());
        Assert.Equal(message, t.Data);
    }

    [Fact]
    public async Task Several_messages_share_one_connection()
    {
        var a = Enqueue("alice@pochta.test", "bob@remote.test", "carol@remote.test");
        var b = Enqueue("alice@pochta.test", "dave@remote.test");
        var c = Enqueue("alice@pochta.test", "erin@remote.test");
        await _h.RunAsync(a.Id, b.Id, c.Id);

        Assert.Equal(1, _server.Connections);
        Assert.Equal(3, _server.Delivered.Count());
        Assert.All(_server.Transactions, t => Assert.Equal(1, t.Connection));
        Assert.Empty(_h.Store.Entries());
    }

    [Fact]
    public async Task A_connection_is_kept_for_the_next_run_to_its_destination_until_the_idle_time_is_up()
    {
        await using var delivery = _h.CreateDelivery();
        var destination = _h.Router.GetDestination("bob@remote.test");
        async Task RunOneAsync(string recipient)
        {
            var entry = Enqueue("alice@pochta.test", recipient);
            await delivery.DeliverAsync(destination, [new OutboundWorkItem(entry, entry.Recipients)], CancellationToken.None);
            Assert.Null(_h.Store.Entry(entry.Id));
        }

        await RunOneAsync("bob@remote.test");
        await RunOneAsync("carol@remote.test");
        Assert.Equal(1, _server.Connections); // the second run reused the first one's session
        Assert.Equal(0, _server.Quits);

        // Postfix's smtp_connection_cache_time_limit: idle longer than that, it is closed with QUIT.
        _h.Time.Advance(_h.Options.ConnectionCacheTime);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_server.Quits == 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, _server.Quits);
        await RunOneAsync("dave@remote.test");
        Assert.Equal(2, _server.Connections);
        Assert.Equal([1, 1, 2], _server.Delivered.Select(t => t.Connection).ToArray());
    }

    [Fact]
    public async Task Without_a_connection_cache_each_run_ends_with_quit()
    {
        _h.Options.ConnectionCacheTime = TimeSpan.Zero;
        var a = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(a.Id);
        var b = Enqueue("alice@pochta.test", "carol@remote.test");
        await _h.RunAsync(b.Id);
        Assert.Equal(2, _server.Connections);
        Assert.Equal(2, _server.Quits);
    }

    [Fact]
    public async Task Domains_mapped_to_the_same_host_share_its_connection()
    {
        _h.Options.TransportMap["second.test"] = _server.Endpoint;
        var a = Enqueue("alice@pochta.test", "bob@remote.test", "x@second.test");
        await _h.RunAsync(a.Id);
        Assert.Equal(1, _server.Connections);
        Assert.Equal(["bob@remote.test", "x@second.test"], _server.Transactions.Single().Accepted);
    }

    [Fact]
    public async Task The_connection_is_renewed_after_max_messages_per_connection()
    {
        _h.Options.MaxMessagesPerConnection = 2;
        var ids = Enumerable.Range(0, 5).Select(_ => Enqueue("alice@pochta.test", "bob@remote.test").Id).ToArray();
        await _h.RunAsync(ids);
        Assert.Equal(3, _server.Connections);
        Assert.Equal(5, _server.Delivered.Count());
    }

    [Fact]
    public async Task A_connection_closed_by_the_server_between_messages_is_reopened_to_the_same_host()
    {
        // The server ends the session after each message (421 on the next MAIL FROM).
        var count = 0;
        _server.MailReply = _ => Interlocked.Increment(ref count) % 2 == 0 ? "421 4.3.2 Closing" : "250 OK";
        var a = Enqueue("alice@pochta.test", "bob@remote.test");
        var b = Enqueue("alice@pochta.test", "carol@remote.test");
        await _h.RunAsync(a.Id, b.Id);
        Assert.Equal(RecipientState.Delivered, _h.Recipient(a.Id, "bob@remote.test").State);
        Assert.Equal(RecipientState.Delivered, _h.Recipient(b.Id, "carol@remote.test").State);
    }

    [Fact]
    public async Task Every_mx_host_is_tried_in_order_before_deferring()
    {
        _h.Options.TransportMap.Clear();
        _h.Options.MxPort = _server.Port;
        _h.Dns.Mx["remote.test"] = new MxLookupResult(MxLookupStatus.Found, [new("down.remote.test", 10), new("nodns.remote.test", 15), new("up.remote.test", 20)], null);
        _h.Dns.Hosts["down.remote.test"] = [IPAddress.Parse("127.0.0.2")]; // nothing listens there
        _h.Dns.FailingHosts.Add("nodns.remote.test");
        _h.Dns.Hosts["up.remote.test"] = [IPAddress.Loopback];
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);

        var r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Delivered, r.State);
        Assert.Equal("up.remote.test", r.RemoteHost);
        Assert.Equal(["MX remote.test", "A down.remote.test", "A nodns.remote.test", "A up.remote.test"], _h.Dns.Queries);
    }

    [Fact]
    public async Task When_every_mx_host_fails_the_recipient_is_deferred_with_the_last_error()
    {
        _h.Options.TransportMap.Clear();
        _h.Options.MxPort = FreePort();
        _h.Dns.Mx["remote.test"] = new MxLookupResult(MxLookupStatus.Found, [new("a.remote.test", 10), new("b.remote.test", 20)], null);
        _h.Dns.Hosts["a.remote.test"] = [IPAddress.Loopback];
        _h.Dns.Hosts["b.remote.test"] = [IPAddress.Parse("127.0.0.3")];
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.Equal("b.remote.test", r.RemoteHost);
    }

    [Fact]
    public async Task Implicit_mx_delivers_to_the_domain_itself()
    {
        _h.Options.TransportMap.Clear();
        _h.Options.MxPort = _server.Port;
        _h.Dns.Mx["remote.test"] = new MxLookupResult(MxLookupStatus.Found, [new("remote.test", 0)], null);
        _h.Dns.Hosts["remote.test"] = [IPAddress.Loopback];
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.Equal("remote.test", _h.Recipient(entry.Id, "bob@remote.test").RemoteHost);
    }

    [Fact]
    public async Task Null_mx_fails_immediately_without_connecting()
    {
        _h.Dns.Mx["nomail.test"] = MxOrdering.FromRecords([new(".", 0)], Random.Shared);
        var entry = Enqueue("sender@elsewhere.test", "bob@nomail.test");
        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "bob@nomail.test");
        Assert.Equal(RecipientState.Failed, r.State);
        Assert.Equal(1, r.Attempts);
        Assert.StartsWith("556 5.1.10", r.LastReply, StringComparison.Ordinal);
        Assert.Equal(0, _server.Connections);
        Assert.Equal("5.1.10", StatusOf(Assert.Single(_h.QueuedDsns())).StatusGroups[1]["Status"]);
    }

    [Fact]
    public async Task Temporary_dns_failure_defers()
    {
        _h.Dns.Mx["flaky.test"] = new MxLookupResult(MxLookupStatus.TemporaryFailure, [], "SERVFAIL");
        var entry = Enqueue("alice@pochta.test", "bob@flaky.test");
        await _h.RunAsync(entry.Id);
        Assert.Equal(RecipientState.Deferred, _h.Recipient(entry.Id, "bob@flaky.test").State);
    }

    [Fact]
    public async Task Starttls_is_used_when_offered()
    {
        _server.StartTls = true;
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.True(_server.Delivered.Single().Tls);
    }

    [Fact]
    public async Task Plaintext_is_used_only_when_starttls_is_not_offered()
    {
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.False(_server.Delivered.Single().Tls);
    }

    [Fact]
    public async Task A_failed_tls_handshake_is_not_followed_by_plaintext()
    {
        _server.StartTls = true;
        _server.Drop = DropPoint.DuringTlsHandshake;
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.StartsWith("451 4.7.5", r.LastReply, StringComparison.Ordinal);
        Assert.Equal(1, _server.Connections);
        Assert.Empty(_server.Transactions);
    }

    [Fact]
    public async Task Plaintext_after_tls_failure_when_configured()
    {
        _h.Options.PlaintextAfterTlsFailure = true;
        _server.StartTls = true;
        _server.Drop = DropPoint.DuringTlsHandshake;
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.Equal(RecipientState.Delivered, _h.Recipient(entry.Id, "bob@remote.test").State);
        Assert.Equal(2, _server.Connections);
        Assert.False(_server.Delivered.Single().Tls);
    }

    [Fact]
    public async Task A_missing_message_defers_its_recipients_and_the_next_message_still_goes()
    {
        // Regression: an exception while preparing one message used to escape the worker, leaving
        // every recipient of the run due at once (the queue runner retried it in a tight loop).
        var broken = Enqueue("alice@pochta.test", "bob@remote.test");
        var fine = Enqueue("alice@pochta.test", "carol@remote.test");
        _h.Store.RemoveMessage(broken.MessageId);
        await _h.RunAsync(broken.Id, fine.Id);
        var r = _h.Recipient(broken.Id, "bob@remote.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.Equal(Harness.Start + TimeSpan.FromMinutes(1), r.NextAttemptAt);
        Assert.StartsWith("451 4.3.0", r.LastReply, StringComparison.Ordinal);
        Assert.Equal(RecipientState.Delivered, _h.Recipient(fine.Id, "carol@remote.test").State);
    }

    [Fact]
    public async Task A_failing_dsn_does_not_stop_the_outcome_being_recorded()
    {
        // Regression: only a few exception types from the DSN path were caught; any other one
        // skipped RecordOutcomesAsync, so a delivered recipient stayed pending and was sent again.
        _server.RcptReply = a => a == "x@remote.test" ? "550 5.1.1 Unknown" : "250 OK";
        _h.Store.Domains.Add("pochta.test");
        _h.Store.Accounts["alice@pochta.test"] = 1;
        var entry = Enqueue("alice@pochta.test", "bob@remote.test", "x@remote.test");
        _h.Store.FailCommits = true; // committing the failure DSN throws an unexpected exception type
        await _h.RunAsync(entry.Id);
        Assert.Equal(RecipientState.Delivered, _h.Recipient(entry.Id, "bob@remote.test").State);
        Assert.Equal(RecipientState.Failed, _h.Recipient(entry.Id, "x@remote.test").State);
        Assert.Null(_h.Store.Entry(entry.Id));
    }

    [Fact]
    public async Task Eight_bit_content_goes_unchanged_with_body_8bitmime_to_a_server_that_offers_it()
    {
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        var t = _server.Delivered.Single();
        Assert.Contains("BODY=8BITMIME", t.MailFrom, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetBytes(Harness.Message), t.Data);
    }

    [Fact]
    public async Task Eight_bit_content_is_converted_for_a_seven_bit_server_rfc6152()
    {
        _server.EightBitMime = false;
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        var t = _server.Delivered.Single();
        Assert.DoesNotContain("BODY=", t.MailFrom, StringComparison.Ordinal);
        Assert.All(t.Data!, b => Assert.True(b < 0x80, "8-bit byte sent to a 7-bit server"));
        var received = MimeMessage.Load(new MemoryStream(t.Data!));
        Assert.Contains(((TextPart)received.Body!).ContentTransferEncoding, new[] { ContentEncoding.QuotedPrintable, ContentEncoding.Base64 });
        Assert.Equal("Привет, Bob! Ünïcödé body line.\nA second line.\n", received.TextBody!.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Smtputf8_address_to_a_server_without_smtputf8_fails_permanently()
    {
        _server.SmtpUtf8 = false;
        var entry = Enqueue("alice@pochta.test", "бob@remote.test");
        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "бob@remote.test");
        Assert.Equal(RecipientState.Failed, r.State);
        Assert.StartsWith("553 5.6.7", r.LastReply, StringComparison.Ordinal);
        Assert.Empty(_server.Delivered);
    }

    [Fact]
    public async Task Smtputf8_address_is_passed_on_with_smtputf8()
    {
        var entry = Enqueue("alice@pochta.test", "бob@remote.test");
        await _h.RunAsync(entry.Id);
        var t = _server.Delivered.Single();
        Assert.Contains("SMTPUTF8", t.MailFrom, StringComparison.Ordinal);
        Assert.Equal(["бob@remote.test"], t.Accepted);
    }

    [Fact]
    public async Task Size_is_declared_and_a_too_large_message_fails_permanently()
    {
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.Contains("SIZE=", _server.Delivered.Single().MailFrom, StringComparison.Ordinal);

        _server.Size = 100;
        var big = Enqueue("alice@pochta.test", "carol@remote.test");
        await _h.RunAsync(big.Id);
        var r = _h.Recipient(big.Id, "carol@remote.test");
        Assert.Equal(RecipientState.Failed, r.State);
        Assert.StartsWith("552", r.LastReply, StringComparison.Ordinal);
        Assert.Single(_server.Delivered);
    }

    private void UseSmartHost(SmartHostTls tls)
    {
        _h.Options.TransportMap.Clear();
        _h.Options.SmartHost = new SmartHostOptions { Host = "127.0.0.1", Port = _server.Port, Tls = tls };
    }

    [Fact]
    public async Task The_smart_host_relays_every_domain_over_one_connection()
    {
        UseSmartHost(SmartHostTls.None);
        var entry = Enqueue("alice@pochta.test", "bob@one.test", "carol@two.test");
        await _h.RunAsync(entry.Id);
        Assert.Equal(1, _server.Connections);
        Assert.Equal(["bob@one.test", "carol@two.test"], _server.Delivered.Single().Accepted);
        Assert.DoesNotContain(_h.Dns.Queries, q => q.StartsWith("MX", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_smart_host_without_starttls_is_not_used_in_plaintext()
    {
        UseSmartHost(SmartHostTls.StartTls);
        var entry = Enqueue("alice@pochta.test", "bob@one.test");
        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "bob@one.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.StartsWith("451 4.7.4", r.LastReply, StringComparison.Ordinal);
        Assert.Empty(_server.Transactions);
    }

    [Fact]
    public async Task A_smart_host_certificate_is_validated()
    {
        // The fake server's certificate is self-signed: acceptable for opportunistic MX TLS,
        // never for the relay, whose TLS is required and authenticated.
        UseSmartHost(SmartHostTls.StartTls);
        _server.StartTls = true;
        var entry = Enqueue("alice@pochta.test", "bob@one.test");
        await _h.RunAsync(entry.Id);
        var r = _h.Recipient(entry.Id, "bob@one.test");
        Assert.Equal(RecipientState.Deferred, r.State);
        Assert.StartsWith("451 4.7.5", r.LastReply, StringComparison.Ordinal);
        Assert.Empty(_server.Transactions);
    }

    [Fact]
    public async Task Unverified_mx_certificates_can_be_refused_by_configuration()
    {
        _h.Options.AcceptUnverifiedMxCertificates = false;
        _server.StartTls = true;
        var entry = Enqueue("alice@pochta.test", "bob@remote.test");
        await _h.RunAsync(entry.Id);
        Assert.Equal(RecipientState.Deferred, _h.Recipient(entry.Id, "bob@remote.test").State);
        Assert.Empty(_server.Transactions);
    }

    private const string Utf8HeaderMessage =
        "From: Алиса <alice@pochta.test>\r\n" +
        "To: Bob <bob@remote.test>\r\n" +
        "Subject: Привет из Почты\r\n" +
        "Message-ID: <utf8-1@pochta.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "\r\n" +
        "Тело письма.\r\n";

    [Fact]
    public async Task Utf8_header_fields_are_encoded_for_a_server_without_smtputf8()
    {
        _server.SmtpUtf8 = false;
        _server.EightBitMime = false;
        var entry = _h.Store.Enqueue("alice@pochta.test", Encoding.UTF8.GetBytes(Utf8HeaderMessage), _h.Time.GetUtcNow(), [new QueuedRecipient("bob@remote.test", null, null)]);
        await _h.RunAsync(entry.Id);
        var t = _server.Delivered.Single();
        Assert.All(t.Data!, b => Assert.True(b < 0x80, "8-bit octet sent to a 7-bit, non-SMTPUTF8 server"));
        var received = MimeMessage.Load(new MemoryStream(t.Data!));
        Assert.Equal("Привет из Почты", received.Subject);
        Assert.Equal("Алиса", received.From.Mailboxes.Single().Name);
        Assert.Equal("alice@pochta.test", received.From.Mailboxes.Single().Address);
        Assert.Equal("Тело письма.", received.TextBody!.Trim());
    }

    [Fact]
    public async Task Utf8_header_fields_go_unchanged_to_a_server_with_smtputf8()
    {
        var entry = _h.Store.Enqueue("alice@pochta.test", Encoding.UTF8.GetBytes(Utf8HeaderMessage), _h.Time.GetUtcNow(), [new QueuedRecipient("bob@remote.test", null, null)]);
        await _h.RunAsync(entry.Id);
        var t = _server.Delivered.Single();
        Assert.Equal(Encoding.UTF8.GetBytes(Utf8HeaderMessage), t.Data);
        Assert.Contains("SMTPUTF8", t.MailFrom, StringComparison.Ordinal); // RFC 6531 §3.4: UTF-8 header fields need it
    }
}