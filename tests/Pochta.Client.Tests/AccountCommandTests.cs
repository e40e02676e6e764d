using System.Text.Json;

using Pochta.Client.Cli;
using Pochta.Client.Config;

namespace Pochta.Client.Tests;

public class AccountCommandTests
{
    [Fact]
    public async Task Add_List_Remove()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);

        var (code, output, error) = await cli.MailAsync("account", "add", "work", "--address", "Ann <ann@example.org>",
            "--imap", "imap.example.org", "--smtp", "smtp.example.org:587", "--pop3", "pop.example.org:110");
        Assert.True(code == 0, error);
        Assert.Contains("added account work", output, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cli.ConfigPath));

        var config = await new ConfigStore(cli.ConfigPath).LoadAsync(CancellationToken.None);
        var account = Assert.Single(config.Accounts);
        Assert.Equal("work", config.DefaultAccount);
        Assert.Equal("Ann", account.DisplayName);
        Assert.Equal(new ServerEndpoint("imap.example.org", 993, TransportSecurity.Tls), account.Imap);
        Assert.Equal(new ServerEndpoint("smtp.example.org", 587, TransportSecurity.StartTls), account.Smtp);
        Assert.Equal(new ServerEndpoint("pop.example.org", 110, TransportSecurity.StartTls), account.Pop3);
        Assert.Null(account.Password);

        (code, output, _) = await cli.MailAsync("account", "list", "--json");
        Assert.Equal(0, code);
        using (var json = JsonDocument.Parse(output))
        {
            var item = json.RootElement.EnumerateArray().Single();
            Assert.Equal("ann@example.org", item.GetProperty("address").GetString());
            Assert.True(item.GetProperty("isDefault").GetBoolean());
            Assert.Equal("prompt", item.GetProperty("passwordSource").GetString());
        }

        (code, _, error) = await cli.MailAsync("account", "add", "work", "--address", "x@example.org", "--imap", "h");
        Assert.Equal(ExitCodes.Refused, code);
        Assert.Equal("pochta mail: account work already exists", error.Trim());

        (code, _, _) = await cli.MailAsync("account", "remove", "work");
        Assert.Equal(0, code);
        (code, _, error) = await cli.MailAsync("account", "remove", "work");
        Assert.Equal(ExitCodes.Refused, code);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task StorePassword_OnlyWhenAsked_AndFromTheEnvironment()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);
        cli.Variables[PasswordResolver.EnvironmentVariable] = "s3cret";
        var (code, _, error) = await cli.MailAsync("account", "add", "a", "--address", "a@example.org", "--imap", "h:143");
        Assert.True(code == 0, error);
        Assert.DoesNotContain("s3cret", await File.ReadAllTextAsync(cli.ConfigPath), StringComparison.Ordinal);

        (code, _, error) = await cli.MailAsync("account", "add", "b", "--address", "b@example.org", "--imap", "h:143", "--store-password");
        Assert.True(code == 0, error);
        var config = await new ConfigStore(cli.ConfigPath).LoadAsync(CancellationToken.None);
        Assert.Equal("s3cret", config.Accounts.Single(a => a.Name == "b").Password);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cli.ConfigPath));
    }

    [Fact]
    public async Task PasswordFile_MustBeOwnerOnly()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);
        var file = home.Combine("pw");
        await File.WriteAllTextAsync(file, "from-file\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var (code, _, error) = await cli.MailAsync("account", "add", "a", "--address", "a@example.org", "--imap", "h", "--password-file", file);
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("chmod 600", error, StringComparison.Ordinal);

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        (code, _, error) = await cli.MailAsync("account", "add", "a", "--address", "a@example.org", "--imap", "h", "--password-file", file);
        Assert.True(code == 0, error);

        var account = (await new ConfigStore(cli.ConfigPath).LoadAsync(CancellationToken.None)).Accounts.Single();
        Assert.Equal("from-file", await new PasswordResolver(cli.Environment).GetAsync(account, CancellationToken.None));
    }

    [Fact]
    public async Task PasswordResolver_Order_EnvironmentThenFileThenStoredThenPrompt()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home) { PromptAnswer = "typed" };
        var account = new AccountConfig { Name = "a", Address = "a@example.org", Password = "stored" };
        Assert.Equal("stored", await new PasswordResolver(cli.Environment).GetAsync(account, CancellationToken.None));
        Assert.Equal("typed", await new PasswordResolver(cli.Environment).GetAsync(account with { Password = null }, CancellationToken.None));
        cli.Variables[PasswordResolver.EnvironmentVariable] = "env";
        Assert.Equal("env", await new PasswordResolver(cli.Environment).GetAsync(account, CancellationToken.None));

        cli.Variables.Clear();
        cli.PromptAnswer = null;
        var error = await Assert.ThrowsAsync<ClientException>(() => new PasswordResolver(cli.Environment).GetAsync(account with { Password = null }, CancellationToken.None));
        Assert.Equal(ExitCodes.Error, error.ExitCode);
    }

    [Fact]
    public async Task Verbs_WithoutAccount_FailWithUsageCode()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);
        var (code, _, error) = await cli.MailAsync("list");
        Assert.Equal(ExitCodes.Error, code);
        Assert.StartsWith("pochta mail: no account configured", error, StringComparison.Ordinal);

        (code, _, error) = await cli.MailAsync("list", "--account", "nope", "--config", home.Combine("other.json"));
        Assert.Equal(ExitCodes.Refused, code);
        Assert.Equal("pochta mail: no account named nope", error.Trim());
    }

    [Fact]
    public async Task UnreachableServer_IsAOneLineConnectionError()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);
        cli.Variables[PasswordResolver.EnvironmentVariable] = "pw";

        // A port nobody listens on: bind then release it.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        await cli.MailAsync("account", "add", "a", "--address", "a@example.org", "--imap", $"127.0.0.1:{port}", "--imap-security", "none");
        var (code, _, error) = await cli.MailAsync("folders");
        Assert.Equal(ExitCodes.Error, code);
        Assert.StartsWith($"pochta mail: 127.0.0.1:{port}: cannot connect", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Send_WithoutBodyOrRecipients_IsAUsageError()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home);
        await cli.MailAsync("account", "add", "a", "--address", "a@example.org", "--smtp", "127.0.0.1:1");
        var (code, _, error) = await cli.MailAsync("send", "--to", "b@example.org", "--subject", "x");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("no message body", error, StringComparison.Ordinal);

        cli.Stdin = "body";
        (code, _, error) = await cli.MailAsync("send", "--subject", "x");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("no recipients", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sendmail_WithoutRecipients_IsAUsageError()
    {
        using var home = new TempDirectory();
        var cli = new CliHarness(home) { Stdin = "Subject: x\n\nbody\n" };
        var (code, _, error) = await cli.SendmailAsync("--smtp", "127.0.0.1:1");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("no recipients", error, StringComparison.Ordinal);
    }
}