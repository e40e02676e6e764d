using MimeKit;

using Pochta.Client.Compose;

namespace Pochta.Client.Tests;

public class ReplyBuilderTests
{
    private static MimeMessage Original()
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Ann", "ann@example.org"));
        message.To.Add(new MailboxAddress("Me", "me@example.net"));
        message.To.Add(new MailboxAddress("Bob", "bob@example.com"));
        message.Cc.Add(new MailboxAddress("Carol", "carol@example.com"));
        message.Subject = "Plans";
        message.MessageId = "orig@example.org";
        message.References.Add("root@example.org");
        message.Date = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        message.Body = new TextPart("plain") { Text = "Line one\n> older\n" };
        return message;
    }

    private static readonly MailboxAddress Me = new("Me", "ME@example.net");

    [Fact]
    public void Reply_GoesToSender_ThreadsAndQuotes()
    {
        var draft = ReplyBuilder.Reply(Original(), Me, all: false, "Sounds good.\n");
        Assert.Equal(["ann@example.org"], draft.To.OfType<MailboxAddress>().Select(m => m.Address));
        Assert.Empty(draft.Cc);
        Assert.Equal("Re: Plans", draft.Subject);
        Assert.Equal("orig@example.org", draft.InReplyTo);
        Assert.Equal(["root@example.org", "orig@example.org"], draft.References);
        Assert.StartsWith("Sounds good.\n\nOn Fri, 2 Jan 2026 03:04 +00:00, \"Ann\" <ann@example.org> wrote:\n> Line one\n>> older\n", draft.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void ReplyAll_CopiesOthersButNotSelf()
    {
        var draft = ReplyBuilder.Reply(Original(), Me, all: true, "ok");
        Assert.Equal(["ann@example.org"], draft.To.OfType<MailboxAddress>().Select(m => m.Address));
        Assert.Equal(["bob@example.com", "carol@example.com"], draft.Cc.OfType<MailboxAddress>().Select(m => m.Address));
    }

    [Fact]
    public void Reply_PrefersReplyTo_AndDoesNotStackRe()
    {
        var original = Original();
        original.ReplyTo.Add(MailboxAddress.Parse("list@example.org"));
        original.Subject = "RE: Plans";
        var draft = ReplyBuilder.Reply(original, Me, all: false, "x");
        Assert.Equal(["list@example.org"], draft.To.OfType<MailboxAddress>().Select(m => m.Address));
        Assert.Equal("RE: Plans", draft.Subject);
    }

    [Fact]
    public void HtmlText_DropsScriptsAndBreaksBlocks()
    {
        var text = HtmlText.ToPlainText("<html><head><style>p{}</style></head><body><h1>Title</h1><p>a  &amp;\n b</p><script>x()</script><ul><li>one</li><li>two</li></ul></body></html>");
        Assert.Equal("Title\n\na & b\n\n* one\n* two", text);
    }
}