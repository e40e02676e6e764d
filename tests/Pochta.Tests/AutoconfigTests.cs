using System.Net;
using System.Net.Http;
using System.Xml.Linq;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Server;
using Pochta.Testing;

namespace Pochta.Tests;

public sealed class AutoconfigTests
{
    private static ListenerInfo L(string name, MailProtocol protocol, int port) =>
        new(name, protocol, ListenerSettings.IsImplicitTls(protocol), new IPEndPoint(IPAddress.Loopback, port));

    [Fact]
    public void Document_lists_the_live_client_listeners_implicit_tls_first()
    {
        var xml = XDocument.Parse(Autoconfig.Build(
            "mail.example.com",
            ["example.com", "example.org"],
            [L("smtp", MailProtocol.Smtp, 25), L("submission", MailProtocol.Submission, 587), L("submissions", MailProtocol.Submissions, 465),
             L("imap", MailProtocol.Imap, 143), L("imaps", MailProtocol.Imaps, 993), L("pop3s", MailProtocol.Pop3s, 995), L("http", MailProtocol.Http, 80)]));

        var provider = xml.Root!.Element("emailProvider")!;
        Assert.Equal("1.1", xml.Root.Attribute("version")!.Value);
        Assert.Equal(["example.com", "example.org"], provider.Elements("domain").Select(d => d.Value));
        var incoming = provider.Elements("incomingServer").Select(s => $"{s.Attribute("type")!.Value}:{s.Element("port")!.Value}:{s.Element("socketType")!.Value}").ToList();
        Assert.Equal(["imap:993:SSL", "imap:143:STARTTLS", "pop3:995:SSL"], incoming);
        var outgoing = provider.Elements("outgoingServer").Select(s => $"{s.Attribute("type")!.Value}:{s.Element("port")!.Value}:{s.Element("socketType")!.Value}").ToList();
        Assert.Equal(["smtp:465:SSL", "smtp:587:STARTTLS"], outgoing);
        Assert.All(provider.Elements().Where(e => e.Name.LocalName.EndsWith("Server", StringComparison.Ordinal)), s =>
        {
            Assert.Equal("mail.example.com", s.Element("hostname")!.Value);
            Assert.Equal("%EMAILADDRESS%", s.Element("username")!.Value);
            Assert.Equal("password-cleartext", s.Element("authentication")!.Value);
        });
    }

    [Fact]
    public async Task Served_on_both_paths_for_local_domains_only()
    {
        await using var server = await PochtaTestServer.StartAsync();
        await server.Store.Directory.AddDomainAsync("example.test", CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port(MailProtocol.Http)}") };

        foreach (var path in new[] { "/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=someone%40example.test" })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/xml", response.Content.Headers.ContentType!.MediaType);
            var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("example.test", xml.Root!.Element("emailProvider")!.Element("domain")!.Value);
        }

        using var foreign = await http.GetAsync("/mail/config-v1.1.xml?emailaddress=someone%40elsewhere.org");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.DoesNotContain("elsewhere", await foreign.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("ok\n", await http.GetStringAsync("/healthz"));
    }
}