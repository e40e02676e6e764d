using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

public sealed class SessionTests
{
    [Fact]
    public async Task Greeting_lists_capabilities_and_rev2()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        Assert.StartsWith("* OK [CAPABILITY IMAP4rev1 IMAP4rev2", c.Greeting, StringComparison.Ordinal);
        Assert.Contains("AUTH=PLAIN", c.Greeting, StringComparison.Ordinal);
        Assert.DoesNotContain("LOGINDISABLED", c.Greeting, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remote_plaintext_connection_advertises_LOGINDISABLED_and_refuses_LOGIN()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync(loopback: false);
        Assert.Contains("LOGINDISABLED", c.Greeting, StringComparison.Ordinal);
        Assert.DoesNotContain("AUTH=PLAIN", c.Greeting, StringComparison.Ordinal);
        var r = await c.CommandAsync("a LOGIN " + ImapHarness.User + " " + ImapHarness.Password);
        Assert.Equal("a NO [PRIVACYREQUIRED] Plaintext login is disabled before TLS", r[^1]);
        var s = await c.CommandAsync("b STARTTLS");
        Assert.Equal("b BAD TLS is not available", s[^1]);
    }

    [Fact]
    public async Task Over_connection_limit_gets_BYE()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync(overLimit: true);
        Assert.StartsWith("* BYE", c.Greeting, StringComparison.Ordinal);
        Assert.Null(await c.ReadRawLineAsync());
    }

    [Fact]
    public async Task Capability_noop_logout()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        var cap = await c.OkAsync("a1 CAPABILITY");
        Assert.Single(cap);
        Assert.StartsWith("* CAPABILITY IMAP4rev1 IMAP4rev2 ", cap[0], StringComparison.Ordinal);
        Assert.Empty(await c.OkAsync("a2 NOOP"));
        var bye = await c.CommandAsync("a3 LOGOUT");
        Assert.Equal(["* BYE Logging out", "a3 OK LOGOUT completed"], bye);
        Assert.Null(await c.ReadRawLineAsync());
    }

    [Fact]
    public async Task Login_success_returns_capabilities_and_relaxes_state()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        var r = await c.CommandAsync("a LOGIN " + ImapHarness.User + " \"" + ImapHarness.Password + "\"");
        Assert.StartsWith("a OK [CAPABILITY IMAP4rev1 IMAP4rev2", r[^1], StringComparison.Ordinal);
        Assert.Contains("COMPRESS=DEFLATE", r[^1], StringComparison.Ordinal);
        var again = await c.CommandAsync("b LOGIN x y");
        Assert.Equal("b BAD Command not valid in this state", again[^1]);
    }

    [Fact]
    public async Task Commands_before_login_get_BAD_and_session_continues()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        Assert.Equal("a BAD Log in first", (await c.CommandAsync("a SELECT INBOX"))[^1]);
        Assert.Equal("b BAD Syntax error in command", (await c.CommandAsync("b FROB"))[^1]);
        await c.SendLineAsync("+++ NOOP");
        Assert.Equal("* BAD Syntax error in command", await c.ReadLineAsync());
        Assert.Empty(await c.OkAsync("c NOOP"));
    }

    [Fact]
    public async Task Failed_logins_are_delayed_then_disconnected()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        for (var i = 1; i <= 3; i++)
        {
            await c.SendLineAsync("f" + i + " LOGIN " + ImapHarness.User + " wrong");
            var pending = c.ReadLineAsync();
            await Task.Delay(50);
            Assert.False(pending.IsCompleted);
            h.Time.Advance(TimeSpan.FromSeconds(2));
            var line = await pending;
            Assert.Equal("f" + i + " NO [AUTHENTICATIONFAILED] Authentication failed", line);
        }

        Assert.Equal("* BYE Too many failed authentications", await c.ReadLineAsync());
        Assert.Null(await c.ReadRawLineAsync());
    }

    [Fact]
    public async Task Authenticate_plain_with_and_without_initial_response()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        var ir = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("\0" + ImapHarness.User + "\0" + ImapHarness.Password));
        var r = await c.CommandAsync("a AUTHENTICATE PLAIN " + ir);
        Assert.StartsWith("a OK [CAPABILITY", r[^1], StringComparison.Ordinal);

        var d = await h.ConnectAsync();
        await d.SendLineAsync("b AUTHENTICATE PLAIN");
        Assert.Equal("+ ", await d.ReadLineAsync());
        await d.SendLineAsync(ir);
        Assert.StartsWith("b OK [CAPABILITY", await d.ReadLineAsync(), StringComparison.Ordinal);

        var e = await h.ConnectAsync();
        await e.SendLineAsync("c AUTHENTICATE PLAIN");
        Assert.Equal("+ ", await e.ReadLineAsync());
        await e.SendLineAsync("*");
        Assert.Equal("c BAD Authentication cancelled", await e.ReadLineAsync());
        Assert.Equal("d NO [CANNOT] Unsupported authentication mechanism", (await e.CommandAsync("d AUTHENTICATE FOO"))[^1]);
    }

    [Fact]
    public async Task Autologout_before_authentication_uses_the_shorter_timer()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        var pending = c.ReadLineAsync();
        h.Time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);
        h.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("* BYE Autologout; idle for too long", await pending);
    }

    [Fact]
    public async Task Autologout_after_authentication_is_at_least_30_minutes()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        var pending = c.ReadLineAsync();
        h.Time.Advance(TimeSpan.FromMinutes(29));
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);
        h.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("* BYE Autologout; idle for too long", await pending);
    }

    [Fact]
    public async Task Huge_literal_is_refused_before_continuation()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        var r = await c.CommandAsync("a LOGIN {1000000000}");
        Assert.Equal("a BAD Literal too large", r[^1]);
        Assert.Empty(await c.OkAsync("b NOOP"));
    }

    [Fact]
    public async Task Enable_id_namespace()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync();
        Assert.Equal(["* ENABLED CONDSTORE QRESYNC"], await c.OkAsync("e ENABLE CONDSTORE QRESYNC X-UNKNOWN"));
        Assert.Equal(["* ENABLED"], await c.OkAsync("e2 ENABLE CONDSTORE"));
        Assert.Equal(["* ID (\"name\" \"Pochta\" \"vendor\" \"Pochta\")"], await c.OkAsync("i ID (\"name\" \"test\")"));
        Assert.Equal(["* NAMESPACE ((\"\" \"/\")) NIL NIL"], await c.OkAsync("n NAMESPACE"));
    }

    [Fact]
    public async Task Unauthenticate_returns_to_not_authenticated()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync("INBOX");
        await c.OkAsync("u UNAUTHENTICATE");
        Assert.Equal("s BAD Log in first", (await c.CommandAsync("s SELECT INBOX"))[^1]);
    }
}