namespace Pochta.Mime.Tests;

public class BaseSubjectTests
{
    // RFC 5256 §2.1 steps: trailers "(fwd)", leaders "re:"/"fw:"/"fwd:" with optional blobs,
    // blob prefixes when something remains, and "[fwd: ...]" wrappers.
    [Theory]
    [InlineData("test", "test")]
    [InlineData("Re: test", "test")]
    [InlineData("RE: Re: re: test", "test")]
    [InlineData("Fwd: test", "test")]
    [InlineData("Fw: test", "test")]
    [InlineData("Re:test", "test")]
    [InlineData("Re[2]: test", "test")]
    [InlineData("Re [2] : test", "test")]
    [InlineData("test (fwd)", "test")]
    [InlineData("test (fwd) (FWD)  ", "test")]
    [InlineData("[Fwd: test]", "test")]
    [InlineData("[fwd: Re: test (fwd)]", "test")]
    [InlineData("Re: [Fwd: test (fwd)]", "test")]
    [InlineData("[list] Re: test", "test")]
    [InlineData("Re: [list] test", "test")]
    [InlineData("[a] [b] Re: [c] Fwd: test", "test")]
    [InlineData("[blob]", "[blob]")]
    [InlineData("Re: [blob]", "[blob]")]
    [InlineData("Re: ", "")]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("  many   spaces\t here ", "many spaces here")]
    [InlineData("Ref: test", "Ref: test")]
    [InlineData("Re: Re: (fwd)", "")]
    [InlineData("Réponse: café", "Réponse: café")]
    public void Extract(string? subject, string expected) =>
        Assert.Equal(expected, BaseSubject.Extract(subject));
}