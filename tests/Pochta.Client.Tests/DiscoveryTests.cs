using Pochta.Client.Cli;
using Pochta.Client.Config;
using Pochta.Client.Net;

namespace Pochta.Client.Tests;

public class DiscoveryTests
{
    private const string Autoconfig = """
        <?xml version="1.0" encoding="UTF-8"?>
        <clientConfig version="1.1">
          <emailProvider id="example.org">
            <domain>example.org</domain>
            <incomingServer type="imap">
              <hostname>imap.example.org</hostname>
              <port>143</port>
              <socketType>plain</socketType>
              <username>%EMAILADDRESS%</username>
            </incomingServer>
            <incomingServer type="imap">
              <hostname>imap.example.org</hostname>
              <port>993</port>
              <socketType>SSL</socketType>
              <username>%EMAILLOCALPART%</username>
            </incomingServer>
            <incomingServer type="pop3">
              <hostname>pop.example.org</hostname>
              <port>995</port>
              <socketType>SSL</socketType>
            </incomingServer>
            <outgoingServer type="smtp">
              <hostname>smtp.example.org</hostname>
              <port>587</port>
              <socketType>STARTTLS</socketType>
            </outgoingServer>
          </emailProvider>
        </clientConfig>
        """;

    [Fact]
    public void Autoconfig_PicksTlsServers_AndSubstitutesTheLogin()
    {
        var settings = Discovery.ParseAutoconfig(Autoconfig, "ann@example.org")!;
        Assert.Equal(new ServerEndpoint("imap.example.org", 993, TransportSecurity.Tls), settings.Imap);
        Assert.Equal(new ServerEndpoint("pop.example.org", 995, TransportSecurity.Tls), settings.Pop3);
        Assert.Equal(new ServerEndpoint("smtp.example.org", 587, TransportSecurity.StartTls), settings.Smtp);
        Assert.Equal("ann", settings.Login);
    }

    [Theory]
    [InlineData("not xml")]
    [InlineData("<clientConfig/>")]
    [InlineData("<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>h</hostname><port>143</port><socketType>plain</socketType></incomingServer></emailProvider></clientConfig>")]
    public void Autoconfig_WithoutUsableServers_IsNull(string xml)
    {
        Assert.Null(Discovery.ParseAutoconfig(xml, "ann@example.org"));
    }

    [Fact]
    public async Task AccountAdd_WithoutServers_UsesAutoconfigOverHttps()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);
        cli.Autoconfig["https://autoconfig.example.org/mail/config-v1.1.xml?emailaddress=ann%40example.org"] = Autoconfig;
        var (code, output, error) = await cli.MailAsync("account", "add", "ann", "--address", "ann@example.org");
        Assert.True(code == 0, error);
        Assert.Contains("found settings via https://autoconfig.example.org/mail/config-v1.1.xml", output, StringComparison.Ordinal);
        var account = (await new ConfigStore(cli.ConfigPath).LoadAsync(CancellationToken.None)).Accounts.Single();
        Assert.Equal("imap.example.org", account.Imap!.Host);
        Assert.Equal("ann", account.LoginName);
    }

    [Fact]
    public async Task AccountAdd_FallsBackToSrv_PreferringImplicitTlsAndPriority()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);
        cli.Srv["_imaps._tcp.example.net"] = [new("imap-b.example.net", 993, 20, 0), new("imap-a.example.net", 993, 10, 0)];
        cli.Srv["_imap._tcp.example.net"] = [new("plain.example.net", 143, 0, 0)];
        cli.Srv["_submissions._tcp.example.net"] = [new(".", 0, 0, 0)]; // RFC 6186 §3.4: not offered
        cli.Srv["_submission._tcp.example.net"] = [new("smtp.example.net", 587, 0, 0)];
        var (code, _, error) = await cli.MailAsync("account", "add", "b", "--address", "bob@example.net");
        Assert.True(code == 0, error);
        var account = (await new ConfigStore(cli.ConfigPath).LoadAsync(CancellationToken.None)).Accounts.Single();
        Assert.Equal(new ServerEndpoint("imap-a.example.net", 993, TransportSecurity.Tls), account.Imap);
        Assert.Equal(new ServerEndpoint("smtp.example.net", 587, TransportSecurity.StartTls), account.Smtp);
        Assert.Null(account.Pop3);
    }

    [Fact]
    public async Task AccountAdd_NothingDiscovered_IsAUsageError()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);
        var (code, _, error) = await cli.MailAsync("account", "add", "c", "--address", "c@example.com");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("no server settings found", error, StringComparison.Ordinal);
        Assert.False(File.Exists(cli.ConfigPath));
    }
}