using Microsoft.Extensions.DependencyInjection;

using Pochta.Storage;

namespace Pochta.Sasl.Tests;

public class AuthenticatorTests
{
    [Fact]
    public void Mechanisms_PlaintextOnlyWhenSecure()
    {
        var (authenticator, _) = TestData.Create();
        Assert.Equal(["SCRAM-SHA-256"], authenticator.GetMechanisms(secure: false));
        Assert.Equal(["SCRAM-SHA-256", "PLAIN", "LOGIN"], authenticator.GetMechanisms(secure: true));
        Assert.NotNull(authenticator.CreateServer("SCRAM-SHA-256", secure: false));
        Assert.Null(authenticator.CreateServer("PLAIN", secure: false));
        Assert.Null(authenticator.CreateServer("LOGIN", secure: false));
        Assert.Null(authenticator.CreateServer("CRAM-MD5", secure: true));
        Assert.Null(authenticator.CreateServer("SCRAM-SHA-256-PLUS", secure: true));
        Assert.DoesNotContain("CRAM-MD5", authenticator.GetMechanisms(secure: true));
    }

    [Fact]
    public async Task VerifyPassword_GoodAndCaseInsensitiveUser()
    {
        var (authenticator, _) = TestData.Create();
        Assert.Equal(new AuthenticatedUser(1, "alice@example.org"),
            await authenticator.VerifyPasswordAsync("alice@example.org", "correct horse", CancellationToken.None));
        Assert.Equal(new AuthenticatedUser(1, "alice@example.org"),
            await authenticator.VerifyPasswordAsync("ALICE@Example.Org", "correct horse", CancellationToken.None));
        Assert.Null(await authenticator.VerifyPasswordAsync("alice@example.org", "Correct horse", CancellationToken.None));
    }

    [Fact]
    public async Task UnknownUserAndWrongPassword_AreIndistinguishable()
    {
        var (authenticator, directory) = TestData.Create();
        directory.Calls.Clear();
        var wrong = await authenticator.VerifyPasswordAsync("alice@example.org", "nope", CancellationToken.None);
        var wrongCalls = directory.Calls.ToArray();
        directory.Calls.Clear();
        var unknown = await authenticator.VerifyPasswordAsync("nobody@example.org", "nope", CancellationToken.None);
        var unknownCalls = directory.Calls.ToArray();
        directory.Calls.Clear();
        var disabled = await authenticator.VerifyPasswordAsync("bob@example.org", "bob-pass", CancellationToken.None);

        Assert.Null(wrong);
        Assert.Null(unknown);
        Assert.Null(disabled);
        Assert.Equal(wrongCalls, unknownCalls);
        Assert.Equal(wrongCalls, directory.Calls);
    }

    [Fact]
    public async Task UnknownUser_RunsTheDummyDerivationAtTheSameCost()
    {
        // The fake/dummy verifiers carry the configured iteration count: the same PBKDF2 work
        // a real credential costs. Exposed through the SCRAM lookup used for unknown names.
        var (authenticator, _) = TestData.Create();
        var (fake, user) = await authenticator.LookupScramAsync("nobody@example.org", CancellationToken.None);
        var (real, realUser) = await authenticator.LookupScramAsync("alice@example.org", CancellationToken.None);
        Assert.Null(user);
        Assert.NotNull(realUser);
        Assert.Equal(real.Iterations, fake.Iterations);
        Assert.Equal(real.Salt.Length, fake.Salt.Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\0b")]
    [InlineData("a\r\nb")]
    public async Task ImplausibleUsernames_Fail(string username)
    {
        var (authenticator, _) = TestData.Create();
        Assert.Null(await authenticator.VerifyPasswordAsync(username, "correct horse", CancellationToken.None));
    }

    [Fact]
    public async Task Rehash_OnlyAfterACorrectPassword_AndOnlyOnce()
    {
        var directory = new FakeDirectory();
        var old = PasswordCredential.Create("pw", TestData.Iterations * 2);
        directory.Add("erin@example.org", old);
        var authenticator = new Authenticator(directory, TestData.Iterations);

        Assert.Null(await authenticator.VerifyPasswordAsync("erin@example.org", "wrong", CancellationToken.None));
        Assert.DoesNotContain("replace", directory.Calls);
        Assert.Equal(old, directory.CredentialOf("erin@example.org"));

        Assert.NotNull(await authenticator.VerifyPasswordAsync("erin@example.org", "pw", CancellationToken.None));
        Assert.Equal(TestData.Iterations, PasswordCredential.GetIterations(directory.CredentialOf("erin@example.org")));
        Assert.NotNull(await authenticator.VerifyPasswordAsync("erin@example.org", "pw", CancellationToken.None));
        Assert.Single(directory.Calls, c => c == "replace");
    }

    [Fact]
    public async Task Rehash_NeverOverwritesAPasswordChangedMeanwhile()
    {
        var directory = new FakeDirectory();
        directory.Add("frank@example.org", PasswordCredential.Create("pw", TestData.Iterations * 2));
        var changed = PasswordCredential.Create("changed", TestData.Iterations * 2);
        directory.BeforeReplace = () => directory.Replace("frank@example.org", changed);
        var authenticator = new Authenticator(directory, TestData.Iterations);

        Assert.NotNull(await authenticator.VerifyPasswordAsync("frank@example.org", "pw", CancellationToken.None));
        Assert.Equal(changed, directory.CredentialOf("frank@example.org"));
    }

    [Fact]
    public async Task CorruptStoredCredential_Fails()
    {
        var directory = new FakeDirectory();
        directory.Add("carol@example.org", "SCRAM-SHA-256$garbage");
        var authenticator = new Authenticator(directory, TestData.Iterations);
        Assert.Null(await authenticator.VerifyPasswordAsync("carol@example.org", "x", CancellationToken.None));
    }

    [Fact]
    public async Task Cancellation_IsObserved()
    {
        var (authenticator, _) = TestData.Create();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            authenticator.VerifyPasswordAsync("alice@example.org", "correct horse", cts.Token));
    }

    [Fact]
    public async Task AddPochtaSasl_RegistersSingletonOverTheMailStore()
    {
        var directory = new FakeDirectory();
        directory.Add("dave@example.org", PasswordCredential.Create("pw", TestData.Iterations));
        var services = new ServiceCollection();
        services.AddSingleton<IMailStore>(new FakeMailStore(directory));
        services.AddPochtaSasl();
        await using var provider = services.BuildServiceProvider();
        var authenticator = provider.GetRequiredService<IAuthenticator>();
        Assert.Same(authenticator, provider.GetRequiredService<IAuthenticator>());
        Assert.IsType<Authenticator>(authenticator);
        Assert.NotNull(await authenticator.VerifyPasswordAsync("dave@example.org", "pw", CancellationToken.None));
    }
}