using System.Net;
using System.Security.Cryptography;
using System.Text;

using MailKit.Security;

namespace Pochta.Sasl.Tests;

public class ScramSha256Tests
{
    private const string ClientNonce = "rOprNGfwEbeRWgbNEkqO";
    private const string ServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string Salt = "W22ZaJ0SNY7soEsUEjb6gQ==";

    private static Authenticator Rfc7677Authenticator(out FakeDirectory directory, bool disabled = false)
    {
        directory = new FakeDirectory();
        directory.Add("user", PasswordCredential.Create("pencil", Convert.FromBase64String(Salt), 4096), disabled);
        return new Authenticator(directory, 4096, () => ServerNonce);
    }

    private static ValueTask<SaslStep> Step(ISaslServer server, string message) =>
        server.StepAsync(TestData.Bytes(message), CancellationToken.None);

    [Fact]
    public async Task Rfc7677_TestVector()
    {
        var server = Rfc7677Authenticator(out _).CreateServer("SCRAM-SHA-256", secure: false)!;
        Assert.Equal("SCRAM-SHA-256", server.Mechanism);

        var first = await Step(server, "n,,n=user,r=" + ClientNonce);
        Assert.Equal(SaslStepKind.Continue, first.Kind);
        Assert.Equal("r=" + ClientNonce + ServerNonce + ",s=" + Salt + ",i=4096", TestData.Text(first.Data));

        var final = await Step(server, "c=biws,r=" + ClientNonce + ServerNonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        Assert.Equal(SaslStepKind.Success, final.Kind);
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", TestData.Text(final.Data));
        Assert.Equal(new AuthenticatedUser(1, "user"), final.User);

        Assert.Equal(SaslStepKind.Malformed, (await Step(server, "c=biws")).Kind);
    }

    [Fact]
    public async Task WrongProof_Fails()
    {
        var server = Rfc7677Authenticator(out _).CreateServer("scram-sha-256", secure: false)!;
        await Step(server, "n,,n=user,r=" + ClientNonce);
        var final = await Step(server, "c=biws,r=" + ClientNonce + ServerNonce + ",p=" + Convert.ToBase64String(new byte[32]));
        Assert.Equal(SaslStepKind.Failure, final.Kind);
        Assert.True(final.Data.IsEmpty);
        Assert.Null(final.User);
    }

    [Fact]
    public async Task DisabledAccount_FailsWithTheRightProof()
    {
        var server = Rfc7677Authenticator(out _, disabled: true).CreateServer("SCRAM-SHA-256", secure: false)!;
        var first = await Step(server, "n,,n=user,r=" + ClientNonce);
        Assert.Equal(SaslStepKind.Continue, first.Kind);
        var final = await Step(server, "c=biws,r=" + ClientNonce + ServerNonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        Assert.Equal(SaslStepKind.Failure, final.Kind);
    }

    [Fact]
    public async Task UnknownUser_GetsAStableFakeSaltAndFailsAtTheProof()
    {
        var authenticator = Rfc7677Authenticator(out _);
        string? salt = null;
        for (var i = 0; i < 2; i++)
        {
            var server = authenticator.CreateServer("SCRAM-SHA-256", secure: false)!;
            var first = await Step(server, "n,,n=nobody,r=" + ClientNonce);
            Assert.Equal(SaslStepKind.Continue, first.Kind);
            var text = TestData.Text(first.Data);
            Assert.Matches("^r=" + System.Text.RegularExpressions.Regex.Escape(ClientNonce + ServerNonce) + ",s=[A-Za-z0-9+/=]{24},i=4096$", text);
            var thisSalt = text.Split(',')[1];
            Assert.True(salt is null || salt == thisSalt);
            salt = thisSalt;
            var final = await Step(server, "c=biws,r=" + ClientNonce + ServerNonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
            Assert.Equal(SaslStepKind.Failure, final.Kind);
        }

        var other = authenticator.CreateServer("SCRAM-SHA-256", secure: false)!;
        var otherFirst = TestData.Text((await Step(other, "n,,n=somebody,r=" + ClientNonce)).Data);
        Assert.NotEqual(salt, otherFirst.Split(',')[1]);
    }

    [Theory]
    [InlineData("p=tls-unique,,n=user,r=abc")]
    [InlineData("n,,n=user")]
    [InlineData("n,,r=abc")]
    [InlineData("n,,m=ext,n=user,r=abc")]
    [InlineData("x,,n=user,r=abc")]
    [InlineData("n,n=user,r=abc")]
    [InlineData("n,,n=us=2Xer,r=abc")]
    [InlineData("n,,n=user=2,r=abc")]
    [InlineData("n,,n=,r=abc")]
    [InlineData("n,,n=user,r=")]
    [InlineData("n,,n=user,r=a b")]
    [InlineData("n,b=x,n=user,r=abc")]
    public async Task MalformedClientFirst(string message)
    {
        var server = Rfc7677Authenticator(out _).CreateServer("SCRAM-SHA-256", secure: false)!;
        Assert.Equal(SaslStepKind.Malformed, (await Step(server, message)).Kind);
    }

    [Theory]
    [InlineData("c=eSws,r=" + ClientNonce + ServerNonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")] // c= says "y,,"
    [InlineData("c=biws,r=" + ClientNonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")]
    [InlineData("c=biws,r=" + ClientNonce + ServerNonce)]
    [InlineData("c=biws,r=" + ClientNonce + ServerNonce + ",p=AAAA")]
    [InlineData("r=" + ClientNonce + ServerNonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")]
    public async Task MalformedClientFinal(string message)
    {
        var server = Rfc7677Authenticator(out _).CreateServer("SCRAM-SHA-256", secure: false)!;
        Assert.Equal(SaslStepKind.Continue, (await Step(server, "n,,n=user,r=" + ClientNonce)).Kind);
        Assert.Equal(SaslStepKind.Malformed, (await Step(server, message)).Kind);
    }

    [Fact]
    public async Task EmptyInitialResponse_GetsEmptyChallenge()
    {
        var server = Rfc7677Authenticator(out _).CreateServer("SCRAM-SHA-256", secure: false)!;
        var step = await server.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        Assert.Equal(SaslStepKind.Continue, step.Kind);
        Assert.True(step.Data.IsEmpty);
        Assert.Equal(SaslStepKind.Continue, (await Step(server, "n,,n=user,r=" + ClientNonce)).Kind);
    }

    [Fact]
    public async Task AuthzidOtherThanUser_Fails()
    {
        var server = Rfc7677Authenticator(out _).CreateServer("SCRAM-SHA-256", secure: false)!;
        Assert.Equal(SaslStepKind.Failure, (await Step(server, "n,a=admin,n=user,r=" + ClientNonce)).Kind);
    }

    [Theory]
    [InlineData("n,,", true)]
    [InlineData("y,,", true)]
    [InlineData("n,a=user,", true)]
    [InlineData("n,a=USER,", true)]
    public async Task Gs2HeaderVariants_Succeed(string header, bool expected)
    {
        var result = await RunClientAsync(header, "user", "pencil");
        Assert.Equal(expected, result.Kind == SaslStepKind.Success);
    }

    [Fact]
    public async Task EscapedUsername_IsDecoded()
    {
        var directory = new FakeDirectory();
        directory.Add("a,b=c", PasswordCredential.Create("pw", TestData.Iterations));
        var authenticator = new Authenticator(directory, TestData.Iterations);
        var result = await RunClientAsync("n,,", "a=2Cb=3Dc", "pw", authenticator);
        Assert.Equal(SaslStepKind.Success, result.Kind);
        Assert.Equal("a,b=c", result.User!.Address);
    }

    [Fact]
    public async Task MailKitClient_AuthenticatesAndVerifiesTheServer()
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("SCRAM-SHA-256", secure: false)!;
        var client = new SaslMechanismScramSha256(new NetworkCredential("Alice@Example.org", "correct horse"));

        var clientFirst = client.Challenge(null);
        var step = await server.StepAsync(Convert.FromBase64String(clientFirst), CancellationToken.None);
        Assert.Equal(SaslStepKind.Continue, step.Kind);
        var clientFinal = client.Challenge(Convert.ToBase64String(step.Data.Span));
        step = await server.StepAsync(Convert.FromBase64String(clientFinal), CancellationToken.None);
        Assert.Equal(SaslStepKind.Success, step.Kind);
        Assert.Equal("alice@example.org", step.User!.Address);

        // MailKit throws when v= does not match its own computation.
        client.Challenge(Convert.ToBase64String(step.Data.Span));
        Assert.True(client.IsAuthenticated);
    }

    [Fact]
    public async Task MailKitClient_WrongPasswordFails()
    {
        var (authenticator, _) = TestData.Create();
        var server = authenticator.CreateServer("SCRAM-SHA-256", secure: false)!;
        var client = new SaslMechanismScramSha256(new NetworkCredential("alice@example.org", "wrong"));
        var step = await server.StepAsync(Convert.FromBase64String(client.Challenge(null)), CancellationToken.None);
        var clientFinal = client.Challenge(Convert.ToBase64String(step.Data.Span));
        step = await server.StepAsync(Convert.FromBase64String(clientFinal), CancellationToken.None);
        Assert.Equal(SaslStepKind.Failure, step.Kind);
    }

    /// <summary>An independent client per RFC 5802 §3 with a random client nonce.</summary>
    private static async Task<SaslStep> RunClientAsync(string gs2Header, string encodedUser, string password, Authenticator? authenticator = null)
    {
        authenticator ??= Rfc7677Authenticator(out _);
        var server = authenticator.CreateServer("SCRAM-SHA-256", secure: false)!;
        var clientFirstBare = "n=" + encodedUser + ",r=" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var first = await Step(server, gs2Header + clientFirstBare);
        Assert.Equal(SaslStepKind.Continue, first.Kind);
        var serverFirst = TestData.Text(first.Data);
        var attributes = serverFirst.Split(',');
        var nonce = attributes[0][2..];
        var salt = Convert.FromBase64String(attributes[1][2..]);
        var iterations = int.Parse(attributes[2][2..], System.Globalization.CultureInfo.InvariantCulture);

        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var withoutProof = "c=" + Convert.ToBase64String(Encoding.UTF8.GetBytes(gs2Header)) + ",r=" + nonce;
        var authMessage = Encoding.UTF8.GetBytes(clientFirstBare + "," + serverFirst + "," + withoutProof);
        var signature = HMACSHA256.HashData(storedKey, authMessage);
        var proof = new byte[32];
        for (var i = 0; i < proof.Length; i++)
        {
            proof[i] = (byte)(clientKey[i] ^ signature[i]);
        }

        var result = await Step(server, withoutProof + ",p=" + Convert.ToBase64String(proof));
        if (result.Kind == SaslStepKind.Success)
        {
            var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
            Assert.Equal("v=" + Convert.ToBase64String(HMACSHA256.HashData(serverKey, authMessage)), TestData.Text(result.Data));
        }

        return result;
    }
}