using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

/// <summary>RFC 9051 §7.1.5: sessions get an untagged BYE when the server shuts down.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Waiting_session_gets_bye_and_ends()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.LoginAsync("INBOX");
        await c.StopServerAsync();
        Assert.Equal("* BYE Server shutting down", await c.ReadLineAsync());
        await c.Run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(await c.ReadRawLineAsync());
    }

    [Fact]
    public async Task Idling_session_gets_bye_and_ends()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(FetchTests.Simple);
        var c = await h.LoginAsync("INBOX");
        await c.SendLineAsync("i IDLE");
        Assert.StartsWith("+ ", await c.ReadLineAsync(), StringComparison.Ordinal);
        await c.StopServerAsync();
        Assert.Equal("* BYE Server shutting down", await c.ReadLineAsync());
        await c.Run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Session_before_login_gets_bye()
    {
        await using var h = await ImapHarness.CreateAsync();
        var c = await h.ConnectAsync();
        await c.StopServerAsync();
        Assert.Equal("* BYE Server shutting down", await c.ReadLineAsync());
        await c.Run.WaitAsync(TimeSpan.FromSeconds(10));
    }
}