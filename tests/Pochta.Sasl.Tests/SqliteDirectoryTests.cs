using System.Net;

using MailKit.Security;

using Pochta.Storage.Sqlite;

namespace Pochta.Sasl.Tests;

/// <summary>The authenticator over the real embedded store: credentials round-trip through the
/// directory, names are matched canonically, unknown users fail like wrong passwords.</summary>
public sealed class SqliteDirectoryTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pochta-sasl-").FullName;
    private SqliteMailStore _store = null!;
    private long _aliceId;

    public async Task InitializeAsync()
    {
        _store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _dir }, TimeProvider.System);
        await _store.InitializeAsync(CancellationToken.None);
        await _store.Directory.AddDomainAsync("example.org", CancellationToken.None);
        var alice = await _store.Directory.AddAccountAsync("alice@example.org", PasswordCredential.Create("correct horse", TestData.Iterations), 0, CancellationToken.None);
        _aliceId = alice.Id;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Password_AgainstTheStore()
    {
        var authenticator = new Authenticator(_store.Directory, TestData.Iterations);
        Assert.Equal(new AuthenticatedUser(_aliceId, "alice@example.org"),
            await authenticator.VerifyPasswordAsync("Alice@EXAMPLE.org", "correct horse", CancellationToken.None));
        Assert.Null(await authenticator.VerifyPasswordAsync("alice@example.org", "wrong", CancellationToken.None));
        Assert.Null(await authenticator.VerifyPasswordAsync("nobody@example.org", "correct horse", CancellationToken.None));
    }

    [Fact]
    public async Task ChangedCredential_TakesEffect()
    {
        var authenticator = new Authenticator(_store.Directory, TestData.Iterations);
        await _store.Directory.SetCredentialAsync("alice@example.org", PasswordCredential.Create("new one", TestData.Iterations), CancellationToken.None);
        Assert.Null(await authenticator.VerifyPasswordAsync("alice@example.org", "correct horse", CancellationToken.None));
        Assert.NotNull(await authenticator.VerifyPasswordAsync("alice@example.org", "new one", CancellationToken.None));
    }

    [Fact]
    public async Task OldIterationCount_IsRehashedAtLogin_AndScramThenAnnouncesTheNewCount()
    {
        // Made like stop 9's `pochta user add` (600,000 then; a smaller stand-in here).
        var old = PasswordCredential.Create("old count", TestData.Iterations * 4);
        await _store.Directory.SetCredentialAsync("alice@example.org", old, CancellationToken.None);
        var authenticator = new Authenticator(_store.Directory, TestData.Iterations);

        Assert.NotNull(await authenticator.VerifyPasswordAsync("alice@example.org", "old count", CancellationToken.None));
        var now = await _store.Directory.GetCredentialAsync("alice@example.org", CancellationToken.None);
        Assert.NotEqual(old, now);
        Assert.Equal(TestData.Iterations, PasswordCredential.GetIterations(now!));
        Assert.True(PasswordCredential.Verify(now!, "old count"));

        var server = authenticator.CreateServer("SCRAM-SHA-256", secure: false)!;
        var client = new SaslMechanismScramSha256(new NetworkCredential("alice@example.org", "old count"));
        var step = await server.StepAsync(Convert.FromBase64String(client.Challenge(null)), CancellationToken.None);
        Assert.Contains($",i={TestData.Iterations}", System.Text.Encoding.ASCII.GetString(step.Data.Span), StringComparison.Ordinal);
        step = await server.StepAsync(Convert.FromBase64String(client.Challenge(Convert.ToBase64String(step.Data.Span))), CancellationToken.None);
        Assert.Equal(SaslStepKind.Success, step.Kind);
    }

    [Fact]
    public async Task ReplaceCredential_OnlyWhileUnchanged()
    {
        var current = await _store.Directory.GetCredentialAsync("alice@example.org", CancellationToken.None);
        var other = PasswordCredential.Create("other", TestData.Iterations);
        Assert.False(await _store.Directory.ReplaceCredentialAsync("alice@example.org", other, other, CancellationToken.None));
        Assert.Equal(current, await _store.Directory.GetCredentialAsync("alice@example.org", CancellationToken.None));
        Assert.False(await _store.Directory.ReplaceCredentialAsync("nobody@example.org", current!, other, CancellationToken.None));
        Assert.True(await _store.Directory.ReplaceCredentialAsync("ALICE@example.org", current!, other, CancellationToken.None));
        Assert.Equal(other, await _store.Directory.GetCredentialAsync("alice@example.org", CancellationToken.None));
    }

    [Fact]
    public async Task Scram_WithMailKit_AgainstTheStore()
    {
        var server = new Authenticator(_store).CreateServer("SCRAM-SHA-256", secure: false)!;
        var client = new SaslMechanismScramSha256(new NetworkCredential("alice@example.org", "correct horse"));
        var step = await server.StepAsync(Convert.FromBase64String(client.Challenge(null)), CancellationToken.None);
        step = await server.StepAsync(Convert.FromBase64String(client.Challenge(Convert.ToBase64String(step.Data.Span))), CancellationToken.None);
        Assert.Equal(SaslStepKind.Success, step.Kind);
        Assert.Equal(_aliceId, step.User!.AccountId);
        client.Challenge(Convert.ToBase64String(step.Data.Span));
        Assert.True(client.IsAuthenticated);
    }
}