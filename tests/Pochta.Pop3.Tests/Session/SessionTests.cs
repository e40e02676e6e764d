using System.Text;

using Pochta.Core;
using Pochta.Pop3.Protocol;
using Pochta.Storage;

using static Pochta.Pop3.Tests.Session.Pop3Harness;

namespace Pochta.Pop3.Tests.Session;

public class SessionTests
{
    private const string Greeting = "S: +OK Pochta POP3 server ready";

    private static string Login(string user = Alice, string password = AlicePassword) => $"""
        C: USER {user}
        S: +OK Send PASS
        C: PASS {password}
        """;

    [Fact]
    public async Task Capa_in_authorization_on_a_secure_connection()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: CAPA
            S: +OK Capability list follows
            S: TOP
            S: UIDL
            S: USER
            S: SASL SCRAM-SHA-256 PLAIN LOGIN
            S: RESP-CODES
            S: AUTH-RESP-CODE
            S: PIPELINING
            S: EXPIRE NEVER
            S: UTF8 USER
            S: IMPLEMENTATION Pochta
            S: .
            C: QUIT
            S: +OK Pochta POP3 server signing off
            S: (closed)
            """);
    }

    [Fact]
    public async Task Capa_before_tls_from_a_remote_address_offers_STLS_and_no_plaintext()
    {
        await using var h = await Pop3Harness.CreateAsync(o => { o.ExpireDays = 30; o.LoginDelaySeconds = 60; });
        var c = h.Connect(Remote, tls: true);
        await c.RunAsync($"""
            {Greeting}
            C: capa
            S: +OK Capability list follows
            S: TOP
            S: UIDL
            S: SASL SCRAM-SHA-256
            S: RESP-CODES
            S: AUTH-RESP-CODE
            S: PIPELINING
            S: STLS
            S: EXPIRE 30
            S: LOGIN-DELAY 60
            S: UTF8
            S: IMPLEMENTATION Pochta
            S: .
            """);
    }

    [Fact]
    public async Task User_and_pass_are_refused_before_tls_on_a_remote_connection()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect(Remote, tls: true);
        await c.RunAsync($"""
            {Greeting}
            C: USER {Alice}
            S: -ERR [AUTH] Plaintext authentication is not allowed before STLS
            C: PASS {AlicePassword}
            S: -ERR [AUTH] Plaintext authentication is not allowed before STLS
            C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=
            S: -ERR Unsupported authentication mechanism
            C: STAT
            S: -ERR Command not valid in this state
            """);
    }

    [Fact]
    public async Task Loopback_is_not_secure_when_configured_so()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect(Loopback, loopbackIsSecure: false);
        await c.RunAsync($"""
            {Greeting}
            C: USER {Alice}
            S: -ERR [AUTH] Plaintext authentication is not allowed before STLS
            """);
    }

    [Fact]
    public async Task Full_session_stat_list_uidl_retr_top_dele_rset_quit()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var m1 = "Subject: one\r\n\r\nhello\r\n";
        var m2 = "Subject: two\r\nX: y\r\n\r\nline1\r\n.dotted\r\nline3\r\n";
        var uid1 = await h.DeliverAsync(h.AliceInbox, m1);
        var uid2 = await h.DeliverAsync(h.AliceInbox, m2);
        var v = h.AliceInbox.UidValidity;
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S: +OK Maildrop has 2 messages ({m1.Length + m2.Length} octets)
            C: STAT
            S: +OK 2 {m1.Length + m2.Length}
            C: LIST
            S: +OK 2 messages ({m1.Length + m2.Length} octets)
            S: 1 {m1.Length}
            S: 2 {m2.Length}
            S: .
            C: LIST 2
            S: +OK 2 {m2.Length}
            C: LIST 3
            S: -ERR No such message
            C: UIDL
            S: +OK Unique-ID listing follows
            S: 1 {v:x8}{uid1:x8}
            S: 2 {v:x8}{uid2:x8}
            S: .
            C: UIDL 1
            S: +OK 1 {v:x8}{uid1:x8}
            C: RETR 2
            S: +OK {m2.Length} octets
            S: Subject: two
            S: X: y
            S: 
            S: line1
            S: ..dotted
            S: line3
            S: .
            C: TOP 2 1
            S: +OK Top of message follows
            S: Subject: two
            S: X: y
            S: 
            S: line1
            S: .
            C: TOP 1 0
            S: +OK Top of message follows
            S: Subject: one
            S: 
            S: .
            C: DELE 1
            S: +OK Message deleted
            C: DELE 1
            S: -ERR Message already deleted
            C: RETR 1
            S: -ERR No such message
            C: LIST
            S: +OK 1 messages ({m2.Length} octets)
            S: 2 {m2.Length}
            S: .
            C: STAT
            S: +OK 1 {m2.Length}
            C: RSET
            S: +OK Maildrop has 2 messages ({m1.Length + m2.Length} octets)
            C: NOOP
            S: +OK
            C: DELE 2
            S: +OK Message deleted
            C: QUIT
            S: +OK Pochta POP3 server signing off (1 message left)
            S: (closed)
            """);

        var left = await h.ListAsync(h.AliceInbox);
        var entry = Assert.Single(left);
        Assert.Equal(uid1, entry.Uid);
    }

    [Fact]
    public async Task Retr_sends_the_stored_bytes_exactly()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var body = new StringBuilder();
        for (var i = 0; i < 3000; i++)
        {
            body.Append(i % 5 == 0 ? "." : "").Append("line ").Append(i).Append("\r\n");
        }

        var message = Message("big", body.ToString());
        await h.DeliverAsync(h.AliceInbox, message);
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has 1 message
            C: RETR 1
            S: +OK {message.Length} octets
            """);
        var lines = await c.ReadMultilineAsync();
        Assert.Equal(message, string.Join("\r\n", lines) + "\r\n");
    }

    [Fact]
    public async Task Read_ahead_serves_each_message_its_own_bytes_in_any_order()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var large = "Subject: large\r\n\r\n" + string.Concat(Enumerable.Range(0, 4000).Select(i => $"{(i % 7 == 0 ? "." : "")}row {i}\r\n"));
        await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n");
        await h.DeliverAsync(h.AliceInbox, "Subject: 2\r\n\r\n2\r\n");
        await h.DeliverAsync(h.AliceInbox, large);
        await h.DeliverAsync(h.AliceInbox, "Subject: 4\r\n\r\n4\r\n");
        var c = h.Connect();

        // Lock-step download and delete (each RETR n is followed by DELE n, then RETR n+1, whose
        // body was read ahead), then out of order: TOP of the message read ahead, a RETR of
        // another number, and the message read ahead deleted and the next one asked for.
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has 4 messages
            C: RETR 1
            S~ +OK
            S: Subject: 1
            S: 
            S: 1
            S: .
            C: DELE 1
            S: +OK Message deleted
            C: RETR 2
            S~ +OK
            S: Subject: 2
            S: 
            S: 2
            S: .
            C: TOP 3 0
            S~ +OK
            S: Subject: large
            S: 
            S: .
            C: RETR 3
            S: +OK {large.Length} octets
            """);
        Assert.Equal(large, string.Join("\r\n", await c.ReadMultilineAsync()) + "\r\n");
        await c.RunAsync("""
            C: RETR 2
            S~ +OK
            S: Subject: 2
            S: 
            S: 2
            S: .
            C: DELE 3
            S: +OK Message deleted
            C: RETR 3
            S: -ERR No such message
            C: RETR 4
            S~ +OK
            S: Subject: 4
            S: 
            S: 4
            S: .
            C: QUIT
            S~ +OK
            S: (closed)
            """);
        Assert.Equal([2u, 4u], (await h.ListAsync(h.AliceInbox)).Select(e => e.Uid));
    }

    [Fact]
    public async Task Quit_expunges_marked_messages_and_a_dropped_connection_deletes_nothing()
    {
        await using var h = await Pop3Harness.CreateAsync();
        await h.DeliverAsync(h.AliceInbox, Message("a", "x\r\n"));
        await h.DeliverAsync(h.AliceInbox, Message("b", "y\r\n"));
        var dropped = h.Connect();
        await dropped.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has 2 messages
            C: DELE 1
            S: +OK Message deleted
            C: DELE 2
            S: +OK Message deleted
            """);
        await dropped.DisposeAsync();
        Assert.Equal(2, (await h.ListAsync(h.AliceInbox)).Count);

        var before = (await h.Store.Mailboxes.GetMailboxAsync(h.AliceInbox.Id, CancellationToken.None))!.HighestModSeq;
        var uids = (await h.ListAsync(h.AliceInbox)).Select(e => e.Uid).ToList();
        var expunged = new List<MailboxChange>();
        using var subscription = h.Store.Changes.Subscribe(h.AliceInbox.AccountId, change =>
        {
            lock (expunged)
            {
                expunged.Add(change);
            }
        });
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has 2 messages
            C: DELE 1
            S: +OK Message deleted
            C: DELE 2
            S: +OK Message deleted
            C: QUIT
            S: +OK Pochta POP3 server signing off (maildrop empty)
            S: (closed)
            """);
        Assert.Empty(await h.ListAsync(h.AliceInbox));

        // IMAP sessions see ordinary expunges: tombstones and an Expunged event on the change bus.
        var changes = await h.Store.Mailboxes.GetChangesSinceAsync(h.AliceInbox.Id, before, CancellationToken.None);
        Assert.Equal(uids, changes.Expunged.Order());
        lock (expunged)
        {
            Assert.Contains(expunged, e => e.Kind == MailboxChangeKind.Expunged && e.MailboxId == h.AliceInbox.Id);
        }
    }

    [Fact]
    public async Task Wrong_password_gets_AUTH_code_and_the_third_failure_disconnects()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login(Alice, "wrong")}
            S: -ERR [AUTH] Authentication failed
            {Login("nobody@example.test", "secret")}
            S: -ERR [AUTH] Authentication failed
            C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdAB3cm9uZw==
            S: -ERR [AUTH] Authentication failed; too many failures, closing
            S: (closed)
            """);
    }

    [Fact]
    public async Task Failed_authentication_is_answered_after_the_delay()
    {
        await using var h = await Pop3Harness.CreateAsync(o => o.AuthFailureDelay = TimeSpan.FromSeconds(2));
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login(Alice, "wrong")}
            """);
        var reply = c.ExpectLineAsync();
        var advanced = await AdvanceUntilAsync(h, reply, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        Assert.True(advanced >= TimeSpan.FromSeconds(2), $"answered after {advanced}");
        Assert.Equal("-ERR [AUTH] Authentication failed", await reply);
    }

    /// <summary>Advances the fake clock in steps until <paramref name="task"/> completes. The session
    /// arms its timer only when it gets there, so the total is at least the timer's duration.</summary>
    private static async Task<TimeSpan> AdvanceUntilAsync(Pop3Harness h, Task task, TimeSpan step, TimeSpan limit)
    {
        var advanced = TimeSpan.Zero;
        while (!task.IsCompleted && advanced < limit)
        {
            await Task.WhenAny(task, Task.Delay(100));
            if (task.IsCompleted)
            {
                break;
            }

            h.Time.Advance(step);
            advanced += step;
        }

        await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.True(task.IsCompleted, "the session did not react to the clock");
        return advanced;
    }

    [Fact]
    public async Task Pass_must_directly_follow_user()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: PASS {AlicePassword}
            S: -ERR USER first
            C: USER {Alice}
            S: +OK Send PASS
            C: CAPA
            S: +OK Capability list follows
            S: TOP
            S: UIDL
            S: USER
            S: SASL SCRAM-SHA-256 PLAIN LOGIN
            S: RESP-CODES
            S: AUTH-RESP-CODE
            S: PIPELINING
            S: EXPIRE NEVER
            S: UTF8 USER
            S: IMPLEMENTATION Pochta
            S: .
            C: PASS {AlicePassword}
            S: -ERR USER first
            """);
    }

    [Fact]
    public async Task State_rules_of_the_legality_table_are_enforced()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: STAT
            S: -ERR Command not valid in this state
            C: LIST
            S: -ERR Command not valid in this state
            C: RETR 1
            S: -ERR Command not valid in this state
            C: DELE 1
            S: -ERR Command not valid in this state
            C: NOOP
            S: -ERR Command not valid in this state
            C: RSET
            S: -ERR Command not valid in this state
            C: TOP 1 1
            S: -ERR Command not valid in this state
            C: UIDL
            S: -ERR Command not valid in this state
            {Login()}
            S: +OK Maildrop has 0 messages (0 octets)
            C: USER {Alice}
            S: -ERR Command not valid in this state
            C: PASS x
            S: -ERR Command not valid in this state
            C: APOP a b
            S: -ERR Command not valid in this state
            C: AUTH PLAIN
            S: -ERR Command not valid in this state
            C: STLS
            S: -ERR Command not valid in this state
            C: UTF8
            S: -ERR Command not valid in this state
            C: CAPA
            S: +OK Capability list follows
            S: TOP
            S: UIDL
            S: RESP-CODES
            S: AUTH-RESP-CODE
            S: PIPELINING
            S: EXPIRE NEVER
            S: UTF8
            S: IMPLEMENTATION Pochta
            S: .
            C: QUIT
            S: +OK Pochta POP3 server signing off (maildrop empty)
            S: (closed)
            """);
    }

    [Fact]
    public void Legality_table_covers_every_command()
    {
        foreach (var kind in Enum.GetValues<Pop3CommandKind>())
        {
            var entry = Pop3CommandTable.Get(kind);
            Assert.True(entry.InAuthorization || entry.InTransaction);
            Assert.False(entry.AllowedIn(Pop3State.Update));
        }

        Assert.Equal(Enum.GetValues<Pop3CommandKind>().Length, Pop3CommandTable.All.Count);
    }

    [Fact]
    public async Task Apop_is_refused_and_the_greeting_has_no_timestamp()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        var greeting = await c.ExpectLineAsync();
        Assert.DoesNotContain("<", greeting, StringComparison.Ordinal);
        await c.RunAsync("""
            C: APOP alice@example.test c4c9334bac560ecc979e58001b3e22fb
            S: -ERR APOP is not supported; use AUTH or USER/PASS
            """);
    }

    [Fact]
    public async Task Auth_plain_with_and_without_initial_response()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{Alice}\0{AlicePassword}"));
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: AUTH PLAIN
            S: + 
            C: {plain}
            S: +OK Maildrop has 0 messages (0 octets)
            C: QUIT
            S~ +OK
            S: (closed)
            """);
        var d = h.Connect();
        await d.RunAsync($"""
            {Greeting}
            C: AUTH plain {plain}
            S: +OK Maildrop has 0 messages (0 octets)
            """);
    }

    [Fact]
    public async Task Auth_cancel_bad_base64_unknown_mechanism_and_listing()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: AUTH PLAIN
            S: + 
            C: *
            S: -ERR Authentication cancelled
            C: AUTH PLAIN
            S: + 
            C: %%%
            S: -ERR Invalid base64
            C: AUTH CRAM-MD5
            S: -ERR Unsupported authentication mechanism
            C: AUTH
            S: +OK Supported mechanisms follow
            S: SCRAM-SHA-256
            S: PLAIN
            S: LOGIN
            S: .
            C: AUTH PLAIN =
            S: + 
            C: *
            S: -ERR Authentication cancelled
            """);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Auth_scram_sha_256_sends_server_final_as_a_last_challenge(bool initialResponse)
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect(Remote, tls: true);
        Assert.Equal("+OK Pochta POP3 server ready", await c.ExpectLineAsync());
        var scram = new MailKit.Security.SaslMechanismScramSha256(new System.Net.NetworkCredential(Alice, AlicePassword));
        var clientFirst = scram.Challenge(null, CancellationToken.None);
        if (initialResponse)
        {
            await c.SendLineAsync("AUTH SCRAM-SHA-256 " + clientFirst);
        }
        else
        {
            await c.RunAsync("""
                C: AUTH SCRAM-SHA-256
                S: + 
                """);
            await c.SendLineAsync(clientFirst);
        }

        var serverFirst = await c.ExpectLineAsync();
        Assert.StartsWith("+ ", serverFirst, StringComparison.Ordinal);
        await c.SendLineAsync(scram.Challenge(serverFirst[2..], CancellationToken.None));
        var serverFinal = await c.ExpectLineAsync();
        Assert.StartsWith("+ ", serverFinal, StringComparison.Ordinal);
        Assert.Equal("", scram.Challenge(serverFinal[2..], CancellationToken.None));
        Assert.True(scram.IsAuthenticated);
        await c.RunAsync("""
            C: 
            S: +OK Maildrop has 0 messages (0 octets)
            """);
    }

    [Fact]
    public async Task Auth_scram_with_a_wrong_password_fails_with_AUTH()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect(Remote, tls: true);
        await c.ExpectLineAsync();
        var scram = new MailKit.Security.SaslMechanismScramSha256(new System.Net.NetworkCredential(Alice, "wrong"));
        await c.SendLineAsync("AUTH SCRAM-SHA-256 " + scram.Challenge(null, CancellationToken.None));
        var serverFirst = await c.ExpectLineAsync();
        await c.SendLineAsync(scram.Challenge(serverFirst[2..], CancellationToken.None));
        Assert.Equal("-ERR [AUTH] Authentication failed", await c.ExpectLineAsync());
    }

    [Fact]
    public async Task Auth_login_with_username_and_password_challenges()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: AUTH LOGIN
            S~ + 
            C: {Convert.ToBase64String(Encoding.UTF8.GetBytes(Alice))}
            S~ + 
            C: {Convert.ToBase64String(Encoding.UTF8.GetBytes(AlicePassword))}
            S: +OK Maildrop has 0 messages (0 octets)
            """);
    }

    [Fact]
    public async Task Second_session_on_the_same_maildrop_is_IN_USE()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var first = h.Connect();
        await first.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has
            """);
        var second = h.Connect();
        await second.RunAsync($"""
            {Greeting}
            {Login()}
            S: -ERR [IN-USE] Maildrop is in use by another POP3 session
            {Login(Bob, BobPassword)}
            S~ +OK Maildrop has
            """);
        await first.RunAsync("""
            C: QUIT
            S~ +OK
            S: (closed)
            """);
        var third = h.Connect();
        await third.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has
            """);
    }

    [Fact]
    public async Task A_dropped_session_releases_the_maildrop_lock()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var first = h.Connect();
        await first.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has
            """);
        await first.DisposeAsync();
        Assert.False(h.Registry.IsLocked(h.AliceInbox.Id));
    }

    [Fact]
    public async Task Maildrop_is_a_snapshot_taken_at_login()
    {
        await using var h = await Pop3Harness.CreateAsync();
        await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n");
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has 1 message
            """);
        await h.DeliverAsync(h.AliceInbox, "Subject: 2\r\n\r\n2\r\n");
        await c.RunAsync("""
            C: STAT
            S~ +OK 1 
            C: LIST 2
            S: -ERR No such message
            """);
    }

    [Fact]
    public async Task A_message_expunged_by_another_protocol_mid_session_is_reported_gone()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var uid = await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n");
        await h.DeliverAsync(h.AliceInbox, "Subject: 2\r\n\r\n2\r\n");
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has 2 messages
            """);
        await h.Store.Mailboxes.ExpungeAsync(h.AliceInbox.Id, [uid], CancellationToken.None);
        await c.RunAsync("""
            C: RETR 1
            S: -ERR Message is no longer available
            C: TOP 1 0
            S: -ERR Message is no longer available
            C: DELE 1
            S: +OK Message deleted
            C: DELE 2
            S: +OK Message deleted
            C: QUIT
            S: +OK Pochta POP3 server signing off (maildrop empty)
            S: (closed)
            """);
        Assert.Empty(await h.ListAsync(h.AliceInbox));
    }

    [Fact]
    public async Task Messages_flagged_deleted_by_imap_are_not_in_the_maildrop()
    {
        await using var h = await Pop3Harness.CreateAsync();
        await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n", MessageFlags.Deleted);
        await h.DeliverAsync(h.AliceInbox, "Subject: 2\r\n\r\n2\r\n");
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has 1 message
            """);
    }

    [Fact]
    public async Task Uidl_is_stable_across_sessions()
    {
        await using var h = await Pop3Harness.CreateAsync();
        await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n");
        await h.DeliverAsync(h.AliceInbox, "Subject: 2\r\n\r\n2\r\n");
        async Task<List<string>> UidlAsync()
        {
            var c = h.Connect();
            await c.RunAsync($"""
                {Greeting}
                {Login()}
                S~ +OK Maildrop
                C: UIDL
                S: +OK Unique-ID listing follows
                """);
            var lines = await c.ReadMultilineAsync();
            await c.RunAsync("""
                C: DELE 1
                S: +OK Message deleted
                C: QUIT
                S~ +OK
                S: (closed)
                """);
            return lines.Select(l => l.Split(' ')[1]).ToList();
        }

        var first = await UidlAsync();
        var second = await UidlAsync();
        Assert.Equal(2, first.Count);
        Assert.Equal([first[1]], second);
        Assert.All(first, id => Assert.Matches("^[0-9a-f]{16}$", id));
    }

    [Fact]
    public async Task Retr_marks_kept_messages_seen_at_quit_and_top_does_not()
    {
        await using var h = await Pop3Harness.CreateAsync();
        await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n");
        await h.DeliverAsync(h.AliceInbox, "Subject: 2\r\n\r\n2\r\n");
        await h.DeliverAsync(h.AliceInbox, "Subject: 3\r\n\r\n3\r\n");
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop
            C: TOP 1 5
            S~ +OK
            S: Subject: 1
            S: 
            S: 1
            S: .
            C: RETR 2
            S~ +OK
            S: Subject: 2
            S: 
            S: 2
            S: .
            C: RETR 3
            S~ +OK
            S: Subject: 3
            S: 
            S: 3
            S: .
            C: NOOP
            S: +OK
            """);

        // No write per command: nothing is committed before UPDATE.
        Assert.All(await h.ListAsync(h.AliceInbox), e => Assert.Equal(MessageFlags.None, e.Flags));
        await c.RunAsync("""
            C: DELE 3
            S: +OK Message deleted
            C: QUIT
            S: +OK Pochta POP3 server signing off (2 messages left)
            S: (closed)
            """);
        var entries = await h.ListAsync(h.AliceInbox);
        Assert.Equal(2, entries.Count);
        Assert.Equal(MessageFlags.None, entries[0].Flags);
        Assert.Equal(MessageFlags.Seen, entries[1].Flags);
    }

    [Fact]
    public async Task A_dropped_session_commits_seen_but_deletes_nothing()
    {
        await using var h = await Pop3Harness.CreateAsync();
        await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n");
        await h.DeliverAsync(h.AliceInbox, "Subject: 2\r\n\r\n2\r\n");
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop
            C: RETR 1
            S~ +OK
            S: Subject: 1
            S: 
            S: 1
            S: .
            C: DELE 1
            S: +OK Message deleted
            """);
        await c.DisposeAsync();
        var entries = await h.ListAsync(h.AliceInbox);
        Assert.Equal(2, entries.Count);
        Assert.Equal(MessageFlags.Seen, entries[0].Flags);
        Assert.Equal(MessageFlags.None, entries[1].Flags);
    }

    [Fact]
    public async Task Pipelined_commands_are_answered_in_order_and_seen_is_one_commit()
    {
        await using var h = await Pop3Harness.CreateAsync();
        for (var i = 1; i <= 3; i++)
        {
            await h.DeliverAsync(h.AliceInbox, $"Subject: {i}\r\n\r\n{i}\r\n");
        }

        var c = h.Connect();
        await c.ExpectLineAsync();
        await c.SendAsync($"USER {Alice}\r\nPASS {AlicePassword}\r\nSTAT\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\nDELE 1\r\nDELE 2\r\nDELE 3\r\nQUIT\r\n");
        await c.RunAsync("""
            S: +OK Send PASS
            S~ +OK Maildrop has 3 messages
            S~ +OK 3 
            S~ +OK
            S: Subject: 1
            S: 
            S: 1
            S: .
            S~ +OK
            S: Subject: 2
            S: 
            S: 2
            S: .
            S~ +OK
            S: Subject: 3
            S: 
            S: 3
            S: .
            S: +OK Message deleted
            S: +OK Message deleted
            S: +OK Message deleted
            S: +OK Pochta POP3 server signing off (maildrop empty)
            S: (closed)
            """);
        Assert.Empty(await h.ListAsync(h.AliceInbox));
    }

    [Fact]
    public async Task Idle_session_is_closed_after_ten_minutes_without_update()
    {
        await using var h = await Pop3Harness.CreateAsync();
        await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n");
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop
            C: DELE 1
            S: +OK Message deleted
            """);
        await Task.Delay(100);
        h.Time.Advance(TimeSpan.FromMinutes(9));
        await c.RunAsync("""
            C: NOOP
            S: +OK
            """);
        // RFC 1939 §3: closed without a response and without entering UPDATE.
        var line = c.ReadLineAsync();
        var advanced = await AdvanceUntilAsync(h, line, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(30));
        Assert.True(advanced >= TimeSpan.FromMinutes(10), $"closed after {advanced}");
        Assert.Null(await line);
        await c.ExpectClosedAsync();
        Assert.Single(await h.ListAsync(h.AliceInbox));
    }

    [Fact]
    public async Task Over_the_connection_limit_gets_SYS_TEMP_and_is_closed()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect(overLimit: true);
        await c.RunAsync("""
            S: -ERR [SYS/TEMP] Too many connections from your address, try again later
            S: (closed)
            """);
    }

    [Fact]
    public async Task Stls_upgrades_then_plaintext_login_is_allowed()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect(Remote, tls: true);
        await c.RunAsync($"""
            {Greeting}
            C: STLS
            S: +OK Begin TLS negotiation
            """);
        await c.StartTlsAsync();
        await c.RunAsync($"""
            C: CAPA
            S: +OK Capability list follows
            S: TOP
            S: UIDL
            S: USER
            S: SASL SCRAM-SHA-256 PLAIN LOGIN
            S: RESP-CODES
            S: AUTH-RESP-CODE
            S: PIPELINING
            S: EXPIRE NEVER
            S: UTF8 USER
            S: IMPLEMENTATION Pochta
            S: .
            C: STLS
            S: -ERR Already using TLS
            {Login()}
            S: +OK Maildrop has 0 messages (0 octets)
            """);
    }

    [Fact]
    public async Task Stls_with_pipelined_plaintext_disconnects()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect(Remote, tls: true);
        await c.ExpectLineAsync();
        await c.SendAsync($"STLS\r\nUSER {Alice}\r\n");
        await c.ExpectClosedAsync();
    }

    [Fact]
    public async Task Stls_without_a_certificate_is_refused()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect(Remote, tls: false);
        await c.RunAsync($"""
            {Greeting}
            C: STLS
            S: -ERR TLS is not available
            """);
    }

    [Fact]
    public async Task Expire_removes_old_retrieved_messages_at_login()
    {
        await using var h = await Pop3Harness.CreateAsync(o => o.ExpireDays = 30);
        var now = h.Time.GetUtcNow();
        await h.DeliverAsync(h.AliceInbox, "Subject: old seen\r\n\r\n1\r\n", MessageFlags.Seen, now.AddDays(-40));
        var oldUnseen = await h.DeliverAsync(h.AliceInbox, "Subject: old unseen\r\n\r\n2\r\n", MessageFlags.None, now.AddDays(-40));
        var newSeen = await h.DeliverAsync(h.AliceInbox, "Subject: new seen\r\n\r\n3\r\n", MessageFlags.Seen, now.AddDays(-5));
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop has 2 messages
            C: TOP 1 0
            S: +OK Top of message follows
            S: Subject: old unseen
            S: 
            S: .
            """);
        Assert.Equal([oldUnseen, newSeen], (await h.ListAsync(h.AliceInbox)).Select(e => e.Uid));
    }

    [Fact]
    public async Task Login_delay_refuses_a_login_too_soon()
    {
        await using var h = await Pop3Harness.CreateAsync(o => o.LoginDelaySeconds = 60);
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop
            C: QUIT
            S~ +OK
            S: (closed)
            """);
        var d = h.Connect();
        await d.RunAsync($"""
            {Greeting}
            {Login()}
            S: -ERR [LOGIN-DELAY] Logged in too recently, try again later
            """);
        h.Time.Advance(TimeSpan.FromSeconds(61));
        await d.RunAsync($"""
            {Login()}
            S~ +OK Maildrop
            """);
    }

    [Fact]
    public async Task Syntax_errors_and_long_lines_are_answered_and_the_session_continues()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: XYZZY
            S: -ERR Unknown command
            C: USER {new string('a', 600)}
            S: -ERR Line too long
            C: RETR x
            S: -ERR Invalid number
            C: STAT 1
            S: -ERR Syntax error
            {Login()}
            S~ +OK Maildrop
            C: RETR 0
            S: -ERR Invalid number
            C: RETR 1
            S: -ERR No such message
            C: TOP 1 -1
            S: -ERR Invalid number
            """);
    }

    [Fact]
    public async Task Too_many_bad_commands_disconnect()
    {
        await using var h = await Pop3Harness.CreateAsync(o => o.MaxBadCommands = 3);
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: BAD1
            S: -ERR Unknown command
            C: BAD2
            S: -ERR Unknown command
            C: BAD3
            S: -ERR Unknown command
            S: -ERR Too many invalid commands
            S: (closed)
            """);
    }

    [Fact]
    public async Task Utf8_is_accepted_in_authorization_only()
    {
        await using var h = await Pop3Harness.CreateAsync();
        var c = h.Connect();
        await c.RunAsync($"""
            {Greeting}
            C: UTF8
            S: +OK UTF8 enabled
            {Login()}
            S~ +OK Maildrop
            C: UTF8
            S: -ERR Command not valid in this state
            """);
    }

    [Fact]
    public async Task Server_stopping_says_goodbye_and_deletes_nothing()
    {
        await using var h = await Pop3Harness.CreateAsync();
        await h.DeliverAsync(h.AliceInbox, "Subject: 1\r\n\r\n1\r\n");
        using var stopping = new CancellationTokenSource();
        var c = h.Connect(stopping: stopping.Token);
        await c.RunAsync($"""
            {Greeting}
            {Login()}
            S~ +OK Maildrop
            C: DELE 1
            S: +OK Message deleted
            """);
        await stopping.CancelAsync();
        await c.RunAsync("""
            S: -ERR [SYS/TEMP] Server shutting down
            S: (closed)
            """);
        Assert.Single(await h.ListAsync(h.AliceInbox));
    }
}