namespace Pochta.Sasl.Tests;

public class PasswordCredentialTests
{
    [Fact]
    public void RoundTrip_AcceptsOnlyTheRightPassword()
    {
        var credential = PasswordCredential.Create("s3cret pass", TestData.Iterations);
        Assert.True(PasswordCredential.Verify(credential, "s3cret pass"));
        Assert.False(PasswordCredential.Verify(credential, "s3cret pasS"));
        Assert.False(PasswordCredential.Verify(credential, "s3cret pass "));
        Assert.False(PasswordCredential.Verify(credential, string.Empty));
    }

    [Fact]
    public void Format_IsSelfDescribing_WithFreshSalt()
    {
        // Space and '!' are outside the base64 alphabet: the check below cannot match by chance.
        var a = PasswordCredential.Create("p w!", TestData.Iterations);
        var b = PasswordCredential.Create("p w!", TestData.Iterations);
        Assert.NotEqual(a, b);
        var fields = a.Split('$');
        Assert.Equal(5, fields.Length);
        Assert.Equal("SCRAM-SHA-256", fields[0]);
        Assert.Equal(TestData.Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[1]);
        Assert.Equal(16, Convert.FromBase64String(fields[2]).Length);
        Assert.Equal(32, Convert.FromBase64String(fields[3]).Length);
        Assert.Equal(32, Convert.FromBase64String(fields[4]).Length);
        Assert.DoesNotContain("p w!", a.Replace("SCRAM-SHA-256", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Default_is_the_largest_count_SCRAM_clients_accept()
    {
        // Cyrus SASL clients refuse i > 65,536, WildFly's > 32,768; RFC 7677 asks for ≥ 4,096.
        Assert.Equal(32_768, PasswordCredential.DefaultIterations);
        var credential = PasswordCredential.Create("pw");
        Assert.Equal(32_768, PasswordCredential.GetIterations(credential));
        Assert.True(PasswordCredential.Verify(credential, "pw"));
    }

    [Fact]
    public void Rfc7677_StoredAndServerKeys()
    {
        // RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, i=4096.
        var credential = PasswordCredential.Create("pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        Assert.StartsWith("SCRAM-SHA-256$4096$W22ZaJ0SNY7soEsUEjb6gQ==$", credential, StringComparison.Ordinal);
        Assert.True(PasswordCredential.Verify(credential, "pencil"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("bcrypt$2b$10$abc")]
    [InlineData("SCRAM-SHA-256$0$AAAA$AAAA$AAAA")]
    [InlineData("SCRAM-SHA-256$abc$AAAA$AAAA$AAAA")]
    [InlineData("SCRAM-SHA-256$99999999999$AAAA$AAAA$AAAA")]
    [InlineData("SCRAM-SHA-256$4096$!!$AAAA$AAAA")]
    [InlineData("SCRAM-SHA-256$4096$W22ZaJ0SNY7soEsUEjb6gQ==$AAAA$AAAA")]
    [InlineData("SCRAM-SHA-256$4096$W22ZaJ0SNY7soEsUEjb6gQ==")]
    public void MalformedCredential_NeverMatches(string credential)
    {
        Assert.False(PasswordCredential.Verify(credential, "pencil"));
        Assert.Null(PasswordCredential.GetIterations(credential));
    }

    [Fact]
    public void SaslPrep_MapsSoftHyphenAndNonAsciiSpace()
    {
        // RFC 4013 §3 examples: SOFT HYPHEN maps to nothing; NO-BREAK SPACE maps to SPACE.
        var credential = PasswordCredential.Create("I\u00ADX a", TestData.Iterations);
        Assert.True(PasswordCredential.Verify(credential, "IX a"));
        Assert.True(PasswordCredential.Verify(credential, "IX\u00A0a"));
    }

    [Theory]
    [InlineData("a\u0007b")]
    [InlineData("\u00AD")]
    [InlineData("")]
    [InlineData("a\uE000")]
    public void Create_RefusesProhibitedOrEmptyPasswords(string password)
    {
        Assert.Throws<ArgumentException>(() => PasswordCredential.Create(password, TestData.Iterations));
    }

    [Fact]
    public void Verify_ProhibitedPasswordNeverMatches()
    {
        var credential = PasswordCredential.Create("ab", TestData.Iterations);
        Assert.False(PasswordCredential.Verify(credential, "a\u0007b"));
    }
}