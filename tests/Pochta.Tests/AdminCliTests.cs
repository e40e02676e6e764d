using System.Text.Json;

using Microsoft.Extensions.DependencyInjection;

using Pochta.Configuration;
using Pochta.Sasl;

namespace Pochta.Tests;

/// <summary>The admin CLI against a fresh data directory, as an operator runs it.</summary>
public sealed class AdminCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<CliResult> Run(string[] args, string? stdin = null) => CliRunner.RunAsync([.. args, "--data", _dir.Data], stdin);

    private async Task<JsonElement> Json(params string[] args)
    {
        var result = await Run([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.Err);
        return JsonDocument.Parse(result.Out).RootElement.Clone();
    }

    [Fact]
    public async Task Domain_user_alias_round_trip()
    {
        Assert.Equal(0, (await Run(["domain", "add", "Example.COM"])).ExitCode);
        var add = await Run(["user", "add", "Alice@Example.com", "--password-stdin", "--quota-mb", "50"], "correct horse\n");
        Assert.True(add.ExitCode == 0, add.Err);
        Assert.Contains("alice@example.com", add.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", add.Out + add.Err, StringComparison.Ordinal);
        Assert.Equal(0, (await Run(["user", "add", "bob@example.com", "--password-stdin"], "pw-bob")).ExitCode);
        Assert.Equal(0, (await Run(["alias", "add", "postmaster@example.com", "alice@example.com", "bob@example.com"])).ExitCode);
        Assert.Equal(0, (await Run(["alias", "add", "@example.com", "alice@example.com"])).ExitCode);

        var users = await Json("user", "list");
        Assert.Equal(["alice@example.com", "bob@example.com"], users.EnumerateArray().Select(u => u.GetProperty("address").GetString()).Order(StringComparer.Ordinal));
        var alice = users.EnumerateArray().Single(u => u.GetProperty("address").GetString() == "alice@example.com");
        Assert.Equal(50, alice.GetProperty("quotaMb").GetInt64());

        var aliases = await Json("alias", "list");
        var postmaster = aliases.EnumerateArray().Single(a => a.GetProperty("source").GetString() == "postmaster@example.com");
        Assert.Equal(["alice@example.com", "bob@example.com"], postmaster.GetProperty("targets").EnumerateArray().Select(t => t.GetString()).Order(StringComparer.Ordinal));
        Assert.Contains(aliases.EnumerateArray(), a => a.GetProperty("source").GetString() == "@example.com");

        var domains = await Json("domain", "list");
        var domain = Assert.Single(domains.EnumerateArray());
        Assert.Equal("example.com", domain.GetProperty("name").GetString());
        Assert.Equal(2, domain.GetProperty("accounts").GetInt32());
        Assert.Equal(2, domain.GetProperty("aliases").GetInt32());

        // The table form for people names the same rows.
        var table = await Run(["user", "list", "--domain", "example.com"]);
        Assert.Contains("alice@example.com", table.Out, StringComparison.Ordinal);
        Assert.Contains("50 MiB", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_account_has_the_six_special_use_mailboxes()
    {
        await Run(["domain", "add", "example.com"]);
        await Run(["user", "add", "carol@example.com", "--password-stdin"], "pw");

        var mailboxes = await Json("mailbox", "list", "carol@example.com");

        Assert.Equal(
            ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"],
            mailboxes.EnumerateArray().Select(m => m.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.All(mailboxes.EnumerateArray(), m => Assert.Equal(0, m.GetProperty("messages").GetInt32()));
        Assert.Equal("Junk", mailboxes.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "Junk").GetProperty("specialUse").GetString());
    }

    [Fact]
    public async Task Refusals_exit_1_with_one_line()
    {
        await Run(["domain", "add", "example.com"]);
        await Run(["user", "add", "dave@example.com", "--password-stdin"], "pw");

        foreach (var (args, stdin, mention) in new (string[], string?, string)[]
        {
            (["domain", "add", "example.com"], null, "exists"),
            (["domain", "add", "not a domain"], null, "not a valid domain"),
            (["user", "add", "dave@example.com", "--password-stdin"], "pw", "already exists"),
            (["user", "add", "eve@elsewhere.org", "--password-stdin"], "pw", "not a local domain"),
            (["user", "add", "not-an-address", "--password-stdin"], "pw", "not a valid mail address"),
            (["user", "add", "frank@example.com", "--password-stdin"], "", "no password"),
            (["user", "passwd", "nobody@example.com", "--password-stdin"], "pw", "not found"),
            (["user", "remove", "nobody@example.com"], null, "not found"),
            (["domain", "remove", "example.com"], null, "--force"),
            (["domain", "remove", "other.org"], null, "not found"),
            (["alias", "add", "x@other.org", "dave@example.com"], null, "not a local domain"),
            (["alias", "remove", "nobody@example.com"], null, "not found"),
            (["mailbox", "list", "nobody@example.com"], null, "not found"),
        })
        {
            var result = await Run(args, stdin);
            Assert.True(result.ExitCode == 1, $"{string.Join(' ', args)}: exit {result.ExitCode}, {result.Err}");
            var line = Assert.Single(result.ErrLines);
            Assert.StartsWith("pochta: ", line, StringComparison.Ordinal);
            Assert.Contains(mention, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Password_is_never_taken_from_the_command_line_or_a_pipe_without_the_flag()
    {
        await Run(["domain", "add", "example.com"]);

        var noFlag = await Run(["user", "add", "gina@example.com"], "pw\n");
        Assert.Equal(2, noFlag.ExitCode);
        Assert.Contains("--password-stdin", Assert.Single(noFlag.ErrLines), StringComparison.Ordinal);

        var asArgument = await Run(["user", "add", "gina@example.com", "--password", "pw"]);
        Assert.Equal(2, asArgument.ExitCode);
    }

    [Fact]
    public async Task Stored_credential_verifies_and_unknown_user_equals_wrong_password()
    {
        await Run(["domain", "add", "example.com"]);
        await Run(["user", "add", "hank@example.com", "--password-stdin"], "first-password\n");
        await Run(["user", "passwd", "hank@example.com", "--password-stdin"], "second-password\n");

        await using var admin = await AdminContext.OpenAsync(new ConfigurationInput(_dir.Data, Environment: new Dictionary<string, string?>()), CancellationToken.None);
        var authenticator = admin.Services.GetRequiredService<IAuthenticator>();

        var ok = await authenticator.VerifyPasswordAsync("hank@example.com", "second-password", CancellationToken.None);
        Assert.Equal("hank@example.com", ok?.Address);
        Assert.Null(await authenticator.VerifyPasswordAsync("hank@example.com", "first-password", CancellationToken.None));
        Assert.Null(await authenticator.VerifyPasswordAsync("nobody@example.com", "second-password", CancellationToken.None));
    }

    [Fact]
    public async Task Removing_needs_force_only_when_something_depends_on_it()
    {
        await Run(["domain", "add", "example.com"]);
        await Run(["user", "add", "ivy@example.com", "--password-stdin"], "pw");
        await Run(["alias", "add", "info@example.com", "ivy@example.com", "ext@remote.example"]);

        Assert.Equal(0, (await Run(["alias", "remove", "info@example.com", "ext@remote.example"])).ExitCode);
        var alias = Assert.Single((await Json("alias", "list")).EnumerateArray());
        Assert.Equal(["ivy@example.com"], alias.GetProperty("targets").EnumerateArray().Select(t => t.GetString()));

        Assert.Equal(1, (await Run(["domain", "remove", "example.com"])).ExitCode);
        Assert.Equal(0, (await Run(["domain", "remove", "example.com", "--force"])).ExitCode);
        Assert.Empty((await Json("domain", "list")).EnumerateArray());
        Assert.Empty((await Json("user", "list")).EnumerateArray());
    }

    [Fact]
    public async Task Domain_add_creates_dkim_keys()
    {
        var run = await CliRunner.RunAsync(["domain", "add", "example.net", "--json", "--data", _dir.Data], environment: new Dictionary<string, string?>());
        Assert.True(run.ExitCode == 0, run.Err);
        var result = JsonDocument.Parse(run.Out).RootElement;
        var keys = result.GetProperty("dkim").EnumerateArray().ToList();
        Assert.Equal(2, keys.Count);
        Assert.All(keys, k => Assert.EndsWith("._domainkey.example.net", k.GetProperty("dnsName").GetString(), StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(_dir.Data, "dkim", "example.net")));
    }
}