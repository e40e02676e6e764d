namespace Pochta.Sasl.Tests;

public class PlainLoginTests
{
    private static ValueTask<SaslStep> Step(ISaslServer server, string message) =>
        server.StepAsync(TestData.Bytes(message), CancellationToken.None);

    [Theory]
    [InlineData("\0alice@example.org\0correct horse")]
    [InlineData("\0ALICE@example.ORG\0correct horse")]
    [InlineData("alice@example.org\0alice@example.org\0correct horse")]
    [InlineData("Alice@Example.org\0alice@example.org\0correct horse")]
    public async Task Plain_Good(string message)
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("PLAIN", secure: true)!;
        var step = await Step(server, message);
        Assert.Equal(SaslStepKind.Success, step.Kind);
        Assert.Equal(new AuthenticatedUser(1, "alice@example.org"), step.User);
        Assert.True(step.Data.IsEmpty);
    }

    [Theory]
    [InlineData("\0alice@example.org\0wrong")]
    [InlineData("\0nobody@example.org\0correct horse")]
    [InlineData("\0bob@example.org\0bob-pass")] // disabled
    [InlineData("bob@example.org\0alice@example.org\0correct horse")] // authzid is someone else
    public async Task Plain_Refused(string message)
    {
        var (authenticator, _) = TestData.Create();
        var step = await Step(authenticator.CreateServer("PLAIN", secure: true)!, message);
        Assert.Equal(SaslStepKind.Failure, step.Kind);
        Assert.Null(step.User);
    }

    [Theory]
    [InlineData("alice@example.org correct horse")]
    [InlineData("\0alice@example.org")]
    [InlineData("\0\0correct horse")]
    [InlineData("\0alice@example.org\0")]
    [InlineData("\0alice@example.org\0correct\0horse")]
    public async Task Plain_Malformed(string message)
    {
        var (authenticator, _) = TestData.Create();
        Assert.Equal(SaslStepKind.Malformed, (await Step(authenticator.CreateServer("PLAIN", secure: true)!, message)).Kind);
    }

    [Fact]
    public async Task Plain_InvalidUtf8_IsMalformed()
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("PLAIN", secure: true)!;
        byte[] message = [0, (byte)'a', 0, 0xC3, 0x28];
        Assert.Equal(SaslStepKind.Malformed, (await server.StepAsync(message, CancellationToken.None)).Kind);
    }

    [Fact]
    public async Task Plain_NoInitialResponse_EmptyChallengeThenCredentials()
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("PLAIN", secure: true)!;
        var challenge = await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        Assert.Equal(SaslStepKind.Continue, challenge.Kind);
        Assert.True(challenge.Data.IsEmpty);
        Assert.Equal(SaslStepKind.Success, (await Step(server, "\0alice@example.org\0correct horse")).Kind);
        Assert.Equal(SaslStepKind.Malformed, (await Step(server, "\0alice@example.org\0correct horse")).Kind);
    }

    [Fact]
    public async Task Plain_EmptyAnswerToChallenge_IsMalformed()
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("PLAIN", secure: true)!;
        await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        Assert.Equal(SaslStepKind.Malformed, (await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None)).Kind);
    }

    [Fact]
    public async Task Login_ChallengesThenSucceeds()
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("LOGIN", secure: true)!;
        Assert.Equal("LOGIN", server.Mechanism);
        var first = await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        Assert.Equal(SaslStepKind.Continue, first.Kind);
        Assert.Equal("Username:", TestData.Text(first.Data));
        var second = await Step(server, "alice@example.org");
        Assert.Equal(SaslStepKind.Continue, second.Kind);
        Assert.Equal("Password:", TestData.Text(second.Data));
        var third = await Step(server, "correct horse");
        Assert.Equal(SaslStepKind.Success, third.Kind);
        Assert.Equal("alice@example.org", third.User!.Address);
        Assert.Equal(SaslStepKind.Malformed, (await Step(server, "again")).Kind);
    }

    [Fact]
    public async Task Login_InitialResponseIsTheUsername()
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("login", secure: true)!;
        var first = await Step(server, "alice@example.org");
        Assert.Equal("Password:", TestData.Text(first.Data));
        Assert.Equal(SaslStepKind.Success, (await Step(server, "correct horse")).Kind);
    }

    [Theory]
    [InlineData("alice@example.org", "wrong")]
    [InlineData("nobody@example.org", "correct horse")]
    [InlineData("bob@example.org", "bob-pass")]
    public async Task Login_Refused(string user, string password)
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("LOGIN", secure: true)!;
        await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        await Step(server, user);
        Assert.Equal(SaslStepKind.Failure, (await Step(server, password)).Kind);
    }

    [Fact]
    public async Task Login_EmptyFields_AreMalformed()
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("LOGIN", secure: true)!;
        await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        Assert.Equal(SaslStepKind.Malformed, (await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None)).Kind);

        server = authenticator.CreateServer("LOGIN", secure: true)!;
        await Step(server, "alice@example.org");
        Assert.Equal(SaslStepKind.Malformed, (await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None)).Kind);
    }
}