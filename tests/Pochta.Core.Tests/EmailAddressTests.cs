using Pochta.Core;

namespace Pochta.Core.Tests;

public class EmailAddressTests
{
    [Theory]
    [InlineData("user@example.test", "user", "example.test")]
    [InlineData("First.Last@EXAMPLE.Test", "First.Last", "example.test")]
    [InlineData("\"odd local\"@example.test", "\"odd local\"", "example.test")]
    [InlineData("a+tag@b.c", "a+tag", "b.c")]
    [InlineData("пользователь@пример.рф", "пользователь", "пример.рф")]
    [InlineData("x@[127.0.0.1]", "x", "[127.0.0.1]")]
    public void Parses_valid_addresses(string text, string local, string domain)
    {
        Assert.True(EmailAddress.TryParse(text, out var a));
        Assert.Equal(local, a.LocalPart);
        Assert.Equal(domain, a.Domain);
    }

    [Theory]
    [InlineData("")]
    [InlineData("@example.test")]
    [InlineData("user@")]
    [InlineData("user")]
    [InlineData(".user@example.test")]
    [InlineData("us..er@example.test")]
    [InlineData("user.@example.test")]
    [InlineData("us er@example.test")]
    [InlineData("user@-bad.test")]
    [InlineData("user@bad-.test")]
    [InlineData("user@bad..test")]
    [InlineData("user@exa mple.test")]
    [InlineData("\"unterminated@example.test")]
    public void Rejects_invalid_addresses(string text) => Assert.False(EmailAddress.TryParse(text, out _));

    [Fact]
    public void Rejects_overlong_local_part() =>
        Assert.False(EmailAddress.TryParse(new string('a', 65) + "@example.test", out _));

    [Fact]
    public void Equality_ignores_case_and_key_is_lower_case()
    {
        var a = EmailAddress.Parse("User@Example.Test");
        var b = EmailAddress.Parse("user@example.test");
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal("user@example.test", a.Key);
    }

    [Fact]
    public void Plus_tag_is_removed()
    {
        Assert.Equal("user@example.test", EmailAddress.Parse("user+lists@example.test").WithoutTag().ToString());
        Assert.Equal("+x@example.test", EmailAddress.Parse("+x@example.test").WithoutTag().ToString());
    }
}