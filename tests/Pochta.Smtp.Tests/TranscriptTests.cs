using System.Text;

using Pochta.Core;
using Pochta.Smtp.Tests.Support;

namespace Pochta.Smtp.Tests;

/// <summary>C:/S: transcripts over in-memory pipes against the in-memory store (fast, failure
/// injection). The delivery paths are repeated against the real SqliteMailStore in SqliteTranscriptTests.</summary>
public class TranscriptTests
{
    private static readonly Dictionary<string, (long, string)> Users = new()
    {
        ["alice@example.org"] = (0, "alice-pw"),
        ["bob@example.org"] = (0, "bob-pw"),
    };

    private static async Task<(MemoryMailStore Store, TestAuthenticator Auth, long Alice, long Bob)> SeedAsync()
    {
        var store = new MemoryMailStore();
        var ct = CancellationToken.None;
        await store.AddDomainAsync("example.org", ct);
        await store.AddDomainAsync("catch.example", ct);
        var alice = await store.AddAccountAsync("alice@example.org", "x", 0, ct);
        var bob = await store.AddAccountAsync("bob@example.org", "x", 0, ct);
        await store.AddAccountAsync("carol@example.org", "x", 0, ct);
        store.Disable("carol@example.org");
        await store.AddAliasAsync("team@example.org", ["alice@example.org", "bob@example.org", "dave@remote.example"], ct);
        await store.AddAliasAsync("sales@example.org", ["alice@example.org"], ct);
        await store.AddAliasAsync("loop1@example.org", ["loop2@example.org"], ct);
        await store.AddAliasAsync("loop2@example.org", ["loop1@example.org"], ct);
        await store.AddAliasAsync("postmaster@mx.example.org", ["alice@example.org"], ct);
        await store.AddDomainAsync("mx.example.org", ct);
        await store.AddAliasAsync("@catch.example", ["bob@example.org"], ct);
        var users = new Dictionary<string, (long Id, string Password)>
        {
            ["alice@example.org"] = (alice.Id, "alice-pw"),
            ["bob@example.org"] = (bob.Id, "bob-pw"),
        };
        _ = Users;
        return (store, new TestAuthenticator(users), alice.Id, bob.Id);
    }

    private static async Task<(SmtpHarness H, MemoryMailStore Store, long Alice, long Bob)> StartAsync(HarnessOptions? options = null)
    {
        var (store, auth, alice, bob) = await SeedAsync();
        return (SmtpHarness.Start(store, auth, options), store, alice, bob);
    }

    private static Func<System.Net.Security.SslServerAuthenticationOptions> NoHandshake => () => throw new InvalidOperationException("no handshake expected");

    [Fact]
    public async Task Ehlo_on_mx_advertises_exactly_what_works()
    {
        var (h, _, _, _) = await StartAsync();
        await using var _h = h;
        var ehlo = await h.HelloAsync();
        Assert.Equal(
            "250-mx.example.org\n250-PIPELINING\n250-SIZE 26214400\n250-8BITMIME\n250-SMTPUTF8\n250-ENHANCEDSTATUSCODES\n250-CHUNKING\n250-BINARYMIME\n250 DSN",
            ehlo);
    }

    [Fact]
    public async Task Ehlo_offers_starttls_before_tls_and_auth_only_when_secure()
    {
        var (h, _, _, _) = await StartAsync(new HarnessOptions { Tls = NoHandshake });
        await using (h)
        {
            var ehlo = await h.HelloAsync();
            Assert.Contains("STARTTLS", ehlo.Split('\n').Select(l => l[4..]));
            Assert.DoesNotContain("AUTH", ehlo, StringComparison.Ordinal);
            await h.ExpectAsync("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAGFsaWNlLXB3", "530 5.7.0");
        }

        var (local, _, _, _) = await StartAsync(new HarnessOptions { Remote = "127.0.0.1" });
        await using (local)
        {
            var ehlo = await local.HelloAsync();
            Assert.EndsWith("250 AUTH PLAIN LOGIN", ehlo, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Helo_gets_no_extensions_and_parameters_are_refused()
    {
        var (h, _, _, _) = await StartAsync();
        await using var _h = h;
        await h.ReadReplyAsync();
        Assert.Equal("250 mx.example.org", await h.CommandAsync("HELO client.example.net"));
        await h.ExpectAsync("MAIL FROM:<x@remote.example> SIZE=10", "555 5.5.4");
        await h.ExpectAsync("MAIL FROM:<x@remote.example>", "250 2.1.0");
    }

    [Fact]
    public async Task Local_delivery_stores_one_blob_with_trace_headers_after_commit()
    {
        var (h, store, alice, _) = await StartAsync();
        await using var _h = h;
        await h.EnvelopeAsync("sender@remote.example", "alice@example.org");
        await h.ExpectAsync("DATA", "354 ");
        var final = await h.CommandAsync("Subject: hi\r\n\r\n..dot-stuffed\r\nbody\r\n.");
        Assert.StartsWith("250 2.0.0 Message accepted", final, StringComparison.Ordinal);

        var (request, bytes) = Assert.Single(store.Commits);
        Assert.Equal("sender@remote.example", request.Sender);
        Assert.Equal(1000 + alice, Assert.Single(request.Local).MailboxId);
        Assert.Empty(request.Remote);
        Assert.NotEmpty(request.Index.ToArray());
        var text = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith("Return-Path: <sender@remote.example>\r\nReceived: from client.example.net ([192.0.2.10])\r\n\tby mx.example.org (Pochta) with ESMTP\r\n\tid ", text, StringComparison.Ordinal);
        Assert.Contains("\r\n\tfor <alice@example.org>; Tue, 01 Dec 2026 18:00:00 +0000\r\nSubject: hi\r\n\r\n.dot-stuffed\r\nbody\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("body\r\n", text, StringComparison.Ordinal);
        Assert.Equal(0, h.Signal.Count);
        await h.ExpectAsync("QUIT", "221 2.0.0");
        Assert.True(await h.ClosedAsync());
    }

    [Fact]
    public async Task Recipient_policy_on_mx()
    {
        var (h, store, alice, bob) = await StartAsync();
        await using var _h = h;
        await h.HelloAsync();
        await h.ExpectAsync("MAIL FROM:<>", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<nobody@example.org>", "550 5.1.1");
        await h.ExpectAsync("RCPT TO:<someone@remote.example>", "554 5.7.1");
        await h.ExpectAsync("RCPT TO:<carol@example.org>", "550 5.2.1");
        await h.ExpectAsync("RCPT TO:<loop1@example.org>", "550 5.4.6");
        await h.ExpectAsync("RCPT TO:<alice+news@example.org>", "250 2.1.5");
        await h.ExpectAsync("RCPT TO:<ALICE@Example.Org>", "250 2.1.5");
        await h.ExpectAsync("RCPT TO:<sales@example.org>", "250 2.1.5");
        await h.ExpectAsync("RCPT TO:<anything@catch.example>", "250 2.1.5");
        await h.ExpectAsync("RCPT TO:<Postmaster>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354 ");
        await h.ExpectAsync("Subject: x\r\n\r\nx\r\n.", "250 2.0.0");

        // One blob; alice once (plus-address, case, alias, postmaster all reach her) and bob (catch-all).
        var (request, bytes) = Assert.Single(store.Commits);
        Assert.Equal(new[] { 1000 + alice, 1000 + bob }, request.Local.Select(l => l.MailboxId).Order());
        Assert.Equal("", request.Sender);
        Assert.StartsWith("Return-Path: <>\r\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.DoesNotContain("\tfor <", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alias_with_remote_target_queues_with_dsn_parameters_and_signals_the_queue()
    {
        var (h, store, alice, bob) = await StartAsync();
        await using var _h = h;
        await h.HelloAsync();
        await h.ExpectAsync("MAIL FROM:<sender@remote.example> RET=FULL ENVID=abc+2B1", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<team@example.org> NOTIFY=SUCCESS,FAILURE", "250 2.1.5");
        await h.ExpectAsync("DATA", "354 ");
        await h.ExpectAsync("Subject: x\r\n\r\nx\r\n.", "250 2.0.0");
        var (request, _) = Assert.Single(store.Commits);
        Assert.Equal(new[] { 1000 + alice, 1000 + bob }, request.Local.Select(l => l.MailboxId).Order());
        var remote = Assert.Single(request.Remote);
        Assert.Equal("dave@remote.example", remote.Address);
        Assert.Equal("SUCCESS,FAILURE", remote.Notify);
        Assert.Equal("rfc822;team@example.org", remote.OriginalRecipient);
        Assert.Equal("abc+1", request.Dsn!.EnvelopeId);
        Assert.True(request.Dsn.ReturnFullMessage);
        Assert.Equal(1, h.Signal.Count);
    }

    [Fact]
    public async Task Trusted_network_may_relay()
    {
        var (h, store, _, _) = await StartAsync(new HarnessOptions { Configure = o => o.TrustedNetworks = ["192.0.2.0/24"] });
        await using var _h = h;
        await h.HelloAsync();
        await h.ExpectAsync("MAIL FROM:<a@example.org>", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<x@remote.example> NOTIFY=NEVER ORCPT=rfc822;x+2B1@remote.example", "250 2.1.5");
        await h.ExpectAsync("DATA", "354 ");
        await h.ExpectAsync("Subject: x\r\n\r\nx\r\n.", "250 2.0.0");
        var (request, bytes) = Assert.Single(store.Commits);
        Assert.Empty(request.Local);
        Assert.Equal(new QueuedRecipientView("x@remote.example", "NEVER", "rfc822;x+2B1@remote.example"), QueuedRecipientView.From(Assert.Single(request.Remote)));
        Assert.StartsWith("Received: ", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(1, h.Signal.Count);
    }

    internal sealed record QueuedRecipientView(string Address, string? Notify, string? Orcpt)
    {
        public static QueuedRecipientView From(Storage.QueuedRecipient r) => new(r.Address, r.Notify, r.OriginalRecipient);
    }

    [Fact]
    public async Task Hundred_recipients_then_452()
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await h.HelloAsync();
        var pipelined = new StringBuilder("MAIL FROM:<a@remote.example>\r\n");
        for (var i = 0; i < 101; i++)
        {
            pipelined.Append("RCPT TO:<alice+").Append(i).Append("@example.org>\r\n");
        }

        await h.SendAsync(pipelined.ToString());
        Assert.StartsWith("250 2.1.0", await h.ReadReplyAsync(), StringComparison.Ordinal);
        for (var i = 0; i < 100; i++)
        {
            Assert.StartsWith("250 2.1.5", await h.ReadReplyAsync(), StringComparison.Ordinal);
        }

        Assert.StartsWith("452 4.5.3", await h.ReadReplyAsync(), StringComparison.Ordinal);
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync("x\r\n.", "250 2.0.0");
        Assert.Single(Assert.Single(store.Commits).Request.Local);
    }

    [Fact]
    public async Task Size_is_refused_at_mail_and_an_oversized_body_while_streaming()
    {
        var (h, store, _, _) = await StartAsync(new HarnessOptions { Configure = o => o.MaxMessageSize = 4096 });
        await using var _h = h;
        Assert.Contains("250-SIZE 4096", await h.HelloAsync(), StringComparison.Ordinal);
        await h.ExpectAsync("MAIL FROM:<a@remote.example> SIZE=4097", "552 5.3.4");
        await h.ExpectAsync("MAIL FROM:<a@remote.example> SIZE=4000", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<alice@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        var line = new string('x', 998) + "\r\n";
        for (var i = 0; i < 100; i++)
        {
            await h.SendAsync(line);
        }

        await h.ExpectAsync(".", "552 5.3.4");
        Assert.Empty(store.Commits);
        Assert.Equal(0, store.OpenWriters);

        // The session is still usable.
        await h.ExpectAsync("MAIL FROM:<a@remote.example>", "250 2.1.0");
    }

    [Theory]
    [InlineData("Subject: x\r\n\r\nsmuggled\n.\nMAIL FROM:<evil@remote.example>\r\n.")]
    [InlineData("Subject: x\r\n\r\nbare\rcr\r\n.")]
    public async Task Bare_line_endings_are_refused_and_nothing_is_delivered(string body)
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync(body, "554 5.6.0");
        Assert.Empty(store.Commits);
        await h.ExpectAsync("NOOP", "250 2.0.0");
    }

    [Fact]
    public async Task Over_long_text_line_is_refused()
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync("Subject: x\r\n\r\n" + new string('y', 1200) + "\r\n.", "500 5.5.2");
        Assert.Empty(store.Commits);
    }

    [Fact]
    public async Task Idle_timeout_closes_with_421()
    {
        var (h, _, _, _) = await StartAsync();
        await using var _h = h;
        await h.HelloAsync();
        var reply = await AdvanceUntilReplyAsync(h, TimeSpan.FromMinutes(5));
        Assert.StartsWith("421 4.4.2", reply, StringComparison.Ordinal);
        Assert.True(await h.ClosedAsync());
    }

    [Fact]
    public async Task Slow_data_transfer_is_cut_and_nothing_is_stored()
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.ExpectAsync("DATA", "354");
        await h.SendAsync("Subject: slow\r\n");
        var reply = await AdvanceUntilReplyAsync(h, TimeSpan.FromSeconds(31));
        Assert.StartsWith("421 4.4.2 Data transfer too slow", reply, StringComparison.Ordinal);
        Assert.True(await h.ClosedAsync());
        Assert.Empty(store.Commits);
        Assert.Equal(0, store.OpenWriters);
    }

    private static async Task<string?> AdvanceUntilReplyAsync(SmtpHarness h, TimeSpan step, Task<string?>? pending = null)
    {
        pending ??= h.ReadReplyAsync();
        for (var i = 0; i < 200 && !pending.IsCompleted; i++)
        {
            h.Time.Advance(step);
            await Task.WhenAny(pending, Task.Delay(50));
        }

        return await pending;
    }

    [Fact]
    public async Task Server_stop_says_421_and_stores_nothing_unacknowledged()
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.ExpectAsync("DATA", "354");
        await h.SendAsync("Subject: x\r\n\r\nhalf");
        h.StopServer();
        Assert.StartsWith("421 4.3.2", await h.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await h.ClosedAsync());
        Assert.Empty(store.Commits);
        Assert.Equal(0, store.OpenWriters);
    }

    [Fact]
    public async Task Over_connection_limit_gets_421()
    {
        var (h, _, _, _) = await StartAsync(new HarnessOptions { OverConnectionLimit = true });
        await using var _h = h;
        Assert.StartsWith("421 4.7.0 mx.example.org", await h.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await h.ClosedAsync());
    }

    [Fact]
    public async Task Failed_auth_is_delayed_then_the_connection_is_closed()
    {
        var (h, _, _, _) = await StartAsync(new HarnessOptions { Protocol = MailProtocol.Submission, Remote = "127.0.0.1" });
        await using var _h = h;
        await h.HelloAsync();
        var wrong = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice@example.org\0wrong"));
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await h.SendAsync("AUTH PLAIN " + wrong + "\r\n");
            var pending = h.ReadReplyAsync();
            await Task.Delay(100);
            Assert.False(pending.IsCompleted, "the failure reply waits for the delay");
            var reply = await AdvanceUntilReplyAsync(h, TimeSpan.FromSeconds(2), pending);
            Assert.StartsWith("535 5.7.8", reply, StringComparison.Ordinal);
        }

        Assert.StartsWith("421 4.7.0", await h.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await h.ClosedAsync());
    }

    [Fact]
    public async Task Too_many_errors_close_with_421()
    {
        var (h, _, _, _) = await StartAsync(new HarnessOptions { Configure = o => o.MaxErrors = 3 });
        await using var _h = h;
        await h.HelloAsync();
        await h.ExpectAsync("FOO", "500 5.5.1");
        await h.ExpectAsync("RCPT TO:<a@example.org>", "503 5.5.1");
        await h.SendAsync("BAR\r\n");
        Assert.StartsWith("500 5.5.1", await h.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("421 4.7.0", await h.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await h.ClosedAsync());
    }

    [Fact]
    public async Task Starttls_with_pipelined_plaintext_disconnects_without_reply()
    {
        var (h, _, _, _) = await StartAsync(new HarnessOptions { Tls = NoHandshake });
        await using var _h = h;
        await h.HelloAsync();
        await h.SendAsync("STARTTLS\r\nMAIL FROM:<a@remote.example>\r\n");
        Assert.Null(await h.ReadReplyAsync());
    }

    [Fact]
    public async Task Starttls_without_certificate_is_454_and_twice_is_refused()
    {
        var (h, _, _, _) = await StartAsync();
        await using var _h = h;
        await h.HelloAsync();
        await h.ExpectAsync("STARTTLS", "454 4.7.0");
    }

    [Fact]
    public async Task Low_free_disk_refuses_mail_with_452()
    {
        var (h, _, _, _) = await StartAsync();
        await using var _h = h;
        h.Disk.Bytes = (long)(h.Options.MaxMessageSize * 1.5) - 1;
        await h.HelloAsync();
        await h.ExpectAsync("MAIL FROM:<a@remote.example>", "452 4.3.1");
        h.Disk.Bytes = (long)(h.Options.MaxMessageSize * 1.5);
        await h.ExpectAsync("MAIL FROM:<a@remote.example>", "250 2.1.0");
    }

    [Fact]
    public async Task Replies_never_echo_client_input()
    {
        var (h, _, _, _) = await StartAsync(new HarnessOptions { Remote = "127.0.0.1" });
        await using var _h = h;
        var replies = new List<string?> { await h.ReadReplyAsync() };
        foreach (var line in new[]
        {
            "EHLO zqxj.example", "ZQXJ", "VRFY zqxj", "EXPN zqxj", "HELP zqxj", "NOOP zqxj", "MAIL FROM:<zqxj@remote.example> ZQXJ=1",
            "MAIL FROM:<zqxj@remote.example> SIZE=zqxj", "MAIL FROM:<zqxj@remote.example>", "RCPT TO:<zqxj@example.org>",
            "RCPT TO:<zqxj@remote.example>", "RCPT TO:<zqxj>", "AUTH ZQXJ", "AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0zqxj\0zqxj")),
            "BDAT zqxj", "DATA zqxj",
        })
        {
            await h.SendAsync(line + "\r\n");
            var reply = await AdvanceUntilReplyAsync(h, TimeSpan.FromSeconds(2));
            replies.Add(reply);
        }

        Assert.All(replies, r => Assert.DoesNotContain("zqxj", r!, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Submission_requires_auth_before_mail_and_owned_sender()
    {
        var (h, store, alice, _) = await StartAsync(new HarnessOptions { Protocol = MailProtocol.Submission, Remote = "127.0.0.1" });
        await using var _h = h;
        var ehlo = await h.HelloAsync();
        Assert.Contains("AUTH PLAIN LOGIN", ehlo, StringComparison.Ordinal);
        await h.ExpectAsync("MAIL FROM:<alice@example.org>", "530 5.7.0");
        await h.ExpectAsync("AUTH LOGIN", "334 VXNlcm5hbWU6");
        await h.ExpectAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes("alice@example.org")), "334 UGFzc3dvcmQ6");
        await h.ExpectAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes("alice-pw")), "235 2.7.0");
        Assert.DoesNotContain("AUTH", await h.ExpectAsync("EHLO again.example", "250-"), StringComparison.Ordinal);
        await h.ExpectAsync("AUTH PLAIN", "503 5.5.1");
        await h.ExpectAsync("MAIL FROM:<bob@example.org>", "553 5.7.1");
        await h.ExpectAsync("MAIL FROM:<alice+lists@example.org>", "250 2.1.0");
        await h.ExpectAsync("RSET", "250 2.0.0");
        await h.ExpectAsync("MAIL FROM:<sales@example.org>", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<friend@remote.example>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync("Subject: out\r\n\r\nhello\r\n.", "250 2.0.0");
        var (request, bytes) = Assert.Single(store.Commits);
        Assert.Equal("friend@remote.example", Assert.Single(request.Remote).Address);
        Assert.Contains("with ESMTPA", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(1, h.Signal.Count);
        _ = alice;
    }

    [Fact]
    public async Task Submission_over_plaintext_network_refuses_auth_until_tls()
    {
        var (h, _, _, _) = await StartAsync(new HarnessOptions { Protocol = MailProtocol.Submission, Tls = NoHandshake });
        await using var _h = h;
        var ehlo = await h.HelloAsync();
        Assert.DoesNotContain("AUTH", ehlo, StringComparison.Ordinal);
        await h.ExpectAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice@example.org\0alice-pw")), "530 5.7.0 Must issue a STARTTLS");
        await h.ExpectAsync("MAIL FROM:<alice@example.org>", "530 5.7.0 Authentication required");
    }

    [Fact]
    public async Task Auth_cancel_and_malformed()
    {
        var (h, _, _, _) = await StartAsync(new HarnessOptions { Protocol = MailProtocol.Submission, Remote = "127.0.0.1" });
        await using var _h = h;
        await h.HelloAsync();
        await h.ExpectAsync("AUTH PLAIN", "334 ");
        await h.ExpectAsync("*", "501 5.0.0");
        await h.ExpectAsync("AUTH PLAIN", "334 ");
        await h.ExpectAsync("!!!", "501 5.5.2");
        await h.ExpectAsync("AUTH CRAM-MD5", "504 5.5.4");
        await h.ExpectAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0bob@example.org\0bob-pw")), "235 2.7.0");
    }

    [Fact]
    public async Task Rset_mid_transaction_discards_and_the_next_transaction_delivers_once()
    {
        var (h, store, alice, bob) = await StartAsync();
        await using var _h = h;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.ExpectAsync("RSET", "250 2.0.0");
        await h.ExpectAsync("DATA", "503 5.5.1");
        await h.ExpectAsync("MAIL FROM:<a@remote.example>", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<bob@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync("x\r\n.", "250 2.0.0");
        var (request, _) = Assert.Single(store.Commits);
        Assert.Equal(1000 + bob, Assert.Single(request.Local).MailboxId);
        Assert.Equal(0, store.OpenWriters);
        _ = alice;
    }

    [Fact]
    public async Task Rset_in_the_middle_of_chunking_discards_the_chunks()
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.ExpectRawAsync("BDAT 5\r\nhello", "250 2.0.0");
        await h.ExpectAsync("RSET", "250 2.0.0");
        await h.ExpectRawAsync("BDAT 3 LAST\r\nabc", "503 5.5.1");
        Assert.Empty(store.Commits);
        Assert.Equal(0, store.OpenWriters);
    }

    [Fact]
    public async Task Pipelined_transactions_each_deliver_exactly_once()
    {
        var (h, store, alice, bob) = await StartAsync();
        await using var _h = h;
        await h.HelloAsync();
        await h.SendAsync(
            "MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\nSubject: one\r\n\r\n1\r\n.\r\n" +
            "MAIL FROM:<b@remote.example>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<bob@example.org>\r\nBDAT 16\r\nSubject: two\r\n\r\nBDAT 3 LAST\r\n2\r\n" +
            "QUIT\r\n");
        var expected = new[] { "250 2.1.0", "250 2.1.5", "550 5.1.1", "354", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0 Chunk", "250 2.0.0 Message", "221 2.0.0" };
        foreach (var prefix in expected)
        {
            Assert.StartsWith(prefix, await h.ReadReplyAsync(), StringComparison.Ordinal);
        }

        Assert.True(await h.ClosedAsync());
        Assert.Equal(2, store.Commits.Count);
        Assert.Equal(1000 + alice, Assert.Single(store.Commits[0].Request.Local).MailboxId);
        Assert.Equal(1000 + bob, Assert.Single(store.Commits[1].Request.Local).MailboxId);
        Assert.EndsWith("Subject: one\r\n\r\n1\r\n", Encoding.UTF8.GetString(store.Commits[0].Bytes), StringComparison.Ordinal);
        Assert.EndsWith("Subject: two\r\n\r\n2\r\n", Encoding.UTF8.GetString(store.Commits[1].Bytes), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DATA\r\nSubject: cut\r\n\r\nalmost\r\n")]
    [InlineData("BDAT 100 LAST\r\nonly a part")]
    public async Task Disconnect_before_the_end_of_the_message_stores_nothing(string partial)
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.SendAsync(partial);
        h.CloseClient();
        Assert.True(await h.ClosedAsync());
        await h.Session;
        Assert.Empty(store.Commits);
        Assert.Equal(0, store.OpenWriters);
    }

    [Fact]
    public async Task Commit_failure_is_a_temporary_error()
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        store.FailCommits = true;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync("x\r\n.", "451 4.3.0");
        Assert.Equal(0, store.OpenWriters);
    }

    [Fact]
    public async Task Bdat_chunks_binarymime_and_sequence_errors()
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await h.HelloAsync();
        await h.ExpectRawAsync("BDAT 4\r\nJUNK", "503 5.5.1");
        await h.ExpectAsync("MAIL FROM:<a@remote.example> BODY=BINARYMIME", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<alice@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "503 5.5.1");
        await h.ExpectRawAsync("BDAT 14\r\nSubject: b\r\n\r\n", "250 2.0.0");
        await h.ExpectRawAsync("BDAT 7\r\n\0\u0001.\r\n\r\n", "250 2.0.0");
        await h.ExpectAsync("BDAT 0 LAST", "250 2.0.0 Message");
        var (_, bytes) = Assert.Single(store.Commits);
        Assert.EndsWith("Subject: b\r\n\r\n\0\u0001.\r\n\r\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bdat_oversized_is_552_after_reading_the_chunk()
    {
        var (h, store, _, _) = await StartAsync(new HarnessOptions { Configure = o => o.MaxMessageSize = 1024 });
        await using var _h = h;
        await h.EnvelopeAsync("a@remote.example", "alice@example.org");
        await h.ExpectRawAsync("BDAT 2000 LAST\r\n" + new string('z', 2000), "552 5.3.4");
        await h.ExpectAsync("NOOP", "250 2.0.0");
        Assert.Empty(store.Commits);
    }

    [Fact]
    public async Task Bad_sequences_get_503()
    {
        var (h, _, _, _) = await StartAsync();
        await using var _h = h;
        await h.ReadReplyAsync();
        await h.ExpectAsync("MAIL FROM:<a@remote.example>", "503 5.5.1");
        await h.ExpectAsync("EHLO c.example", "250-");
        await h.ExpectAsync("RCPT TO:<alice@example.org>", "503 5.5.1");
        await h.ExpectAsync("DATA", "503 5.5.1");
        await h.ExpectAsync("MAIL FROM:<a@remote.example>", "250 2.1.0");
        await h.ExpectAsync("MAIL FROM:<a@remote.example>", "503 5.5.1");
        await h.ExpectAsync("DATA", "554 5.5.1");
        await h.ExpectAsync("RCPT TO:<nobody@example.org>", "550 5.1.1");
        await h.ExpectAsync("DATA", "554 5.5.1");
    }

    [Fact]
    public async Task Simple_commands()
    {
        var (h, _, _, _) = await StartAsync();
        await using var _h = h;
        await h.HelloAsync();
        await h.ExpectAsync("VRFY alice", "252 2.5.0");
        await h.ExpectAsync("EXPN team", "502 5.5.1");
        Assert.StartsWith("214-2.0.0", await h.CommandAsync("HELP"), StringComparison.Ordinal);
        await h.ExpectAsync("NOOP", "250 2.0.0");
        await h.ExpectAsync("NOOP " + new string('n', 600), "500 5.5.2");
        await h.ExpectAsync("MAIL FROM:<a@remote.example>", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<иван@example.org>", "553 5.6.7");
        await h.ExpectAsync("QUIT", "221 2.0.0");
        Assert.True(await h.ClosedAsync());
    }

    [Fact]
    public async Task Smtputf8_transaction_accepts_utf8_paths()
    {
        var (h, store, _, _) = await StartAsync();
        await using var _h = h;
        await store.AddAccountAsync("иван@example.org", "x", 0, CancellationToken.None);
        await h.HelloAsync();
        await h.ExpectAsync("MAIL FROM:<отправитель@remote.example> SMTPUTF8 BODY=8BITMIME", "250 2.1.0");
        await h.ExpectAsync("RCPT TO:<Иван@example.org>", "250 2.1.5");
        await h.ExpectAsync("DATA", "354");
        await h.ExpectAsync("Subject: привет\r\n\r\nтекст\r\n.", "250 2.0.0");
        Assert.StartsWith("Return-Path: <отправитель@remote.example>", Encoding.UTF8.GetString(Assert.Single(store.Commits).Bytes), StringComparison.Ordinal);
    }
}