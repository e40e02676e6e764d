using MailKit;
using MailKit.Search;

using Pochta.Client.Cli;
using Pochta.Client.Config;
using Pochta.Client.Net;
using Pochta.Client.Verbs;

namespace Pochta.Client.Tests;

public class ParserTests
{
    [Theory]
    [InlineData("mail.example.org", MailProtocol.Imap, null, "mail.example.org", 993, TransportSecurity.Tls)]
    [InlineData("mail.example.org:143", MailProtocol.Imap, null, "mail.example.org", 143, TransportSecurity.StartTls)]
    [InlineData("mail.example.org:465", MailProtocol.Smtp, null, "mail.example.org", 465, TransportSecurity.Tls)]
    [InlineData("mail.example.org", MailProtocol.Smtp, TransportSecurity.StartTls, "mail.example.org", 587, TransportSecurity.StartTls)]
    [InlineData("[::1]:1110", MailProtocol.Pop3, TransportSecurity.None, "::1", 1110, TransportSecurity.None)]
    [InlineData("pop.example.org:995", MailProtocol.Pop3, null, "pop.example.org", 995, TransportSecurity.Tls)]
    internal void Endpoints(string text, MailProtocol protocol, TransportSecurity? security, string host, int port, TransportSecurity expected)
    {
        Assert.Equal(new ServerEndpoint(host, port, expected), EndpointParser.Parse(text, protocol, security));
    }

    [Theory]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("host:x")]
    [InlineData(":25")]
    [InlineData("[::1")]
    public void BadEndpoints(string text)
    {
        Assert.Throws<ClientException>(() => EndpointParser.Parse(text, MailProtocol.Smtp, null));
    }

    [Fact]
    public void Uids()
    {
        Assert.Equal([3u, 5u, 10u, 11u, 12u], Args.ParseUids(["3,5", "10:12", "5"]).Select(u => u.Id));
        Assert.Throws<ClientException>(() => Args.ParseUids(["0"]));
        Assert.Throws<ClientException>(() => Args.ParseUids(["5:3"]));
        Assert.Throws<ClientException>(() => Args.ParseUids(["-1"]));
        Assert.Throws<ClientException>(() => Args.ParseUids([]));
    }

    [Fact]
    public void Flags()
    {
        var (flags, keywords) = Args.ParseFlags(["seen", "\\Flagged", "$Label1"]);
        Assert.Equal(MessageFlags.Seen | MessageFlags.Flagged, flags);
        Assert.Equal(["$Label1"], keywords);
        Assert.Throws<ClientException>(() => Args.ParseFlags(["bad flag"]));
        Assert.Throws<ClientException>(() => Args.ParseFlags(["\\Custom"]));
        Assert.Equal(["seen", "flagged", "$Label1"], Args.FlagNames(flags, keywords));
    }

    [Fact]
    public void Search_Terms()
    {
        var from = Assert.IsType<TextSearchQuery>(SearchQueryParser.Parse(["from:ann"]));
        Assert.Equal(SearchTerm.FromContains, from.Term);
        Assert.Equal("ann", from.Text);

        var text = Assert.IsType<TextSearchQuery>(SearchQueryParser.Parse(["budget"]));
        Assert.Equal(SearchTerm.MessageContains, text.Term);

        var combined = Assert.IsType<BinarySearchQuery>(SearchQueryParser.Parse(["subject:q3 report", "unread", "since:2025-01-31"]));
        Assert.Equal(SearchTerm.And, combined.Term);
        var since = Assert.IsType<DateSearchQuery>(combined.Right);
        Assert.Equal(SearchTerm.DeliveredAfter, since.Term);
        Assert.Equal(new DateTime(2025, 1, 31), since.Date);

        Assert.Throws<ClientException>(() => SearchQueryParser.Parse(["since:31/01/2025"]));
        Assert.Throws<ClientException>(() => SearchQueryParser.Parse(["from:"]));
        Assert.Throws<ClientException>(() => SearchQueryParser.Parse([]));
    }

    [Theory]
    [InlineData("report.pdf", "report.pdf")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("C:\\Users\\x\\evil.exe", "evil.exe")]
    [InlineData(".hidden", "hidden")]
    [InlineData("a\u0000b", "a_b")]
    [InlineData("..", "attachment")]
    public void SafeFileNames(string name, string expected)
    {
        Assert.Equal(expected, SaveAttachmentsVerb.SafeFileName(name));
    }
}