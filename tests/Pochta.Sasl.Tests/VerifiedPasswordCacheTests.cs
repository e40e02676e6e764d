namespace Pochta.Sasl.Tests;

/// <summary>The verified-password cache behind USER/PASS, LOGIN and PLAIN.</summary>
public sealed class VerifiedPasswordCacheTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private const string Address = "alice@example.org";

    private static (Authenticator Authenticator, FakeDirectory Directory, VerifiedPasswordCache Cache, ManualTime Time) Create()
    {
        var time = new ManualTime();
        var cache = new VerifiedPasswordCache(time, TimeSpan.FromMinutes(15), 100);
        var directory = new FakeDirectory();
        directory.Add(Address, PasswordCredential.Create("correct horse", TestData.Iterations));
        return (new Authenticator(directory, TestData.Iterations, verified: cache), directory, cache, time);
    }

    [Fact]
    public async Task A_second_login_with_the_same_password_is_served_from_the_cache()
    {
        var (authenticator, _, cache, _) = Create();

        Assert.NotNull(await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None));
        Assert.Equal(0, cache.Hits);
        var second = await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None);

        Assert.Equal(Address, second?.Address);
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public async Task Failures_are_never_remembered_and_never_hit()
    {
        var (authenticator, _, cache, _) = Create();
        await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None);

        Assert.Null(await authenticator.VerifyPasswordAsync(Address, "wrong", CancellationToken.None));
        Assert.Null(await authenticator.VerifyPasswordAsync(Address, "wrong", CancellationToken.None));
        Assert.Null(await authenticator.VerifyPasswordAsync("nobody@example.org", "correct horse", CancellationToken.None));
        Assert.Equal(0, cache.Hits);
    }

    [Fact]
    public async Task A_password_change_misses_the_old_entry()
    {
        var (authenticator, directory, cache, _) = Create();
        await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None);

        directory.Add(Address, PasswordCredential.Create("battery staple", TestData.Iterations));

        Assert.Null(await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None));
        Assert.NotNull(await authenticator.VerifyPasswordAsync(Address, "battery staple", CancellationToken.None));
        Assert.Equal(0, cache.Hits);
    }

    [Fact]
    public async Task Entries_expire_after_the_ttl()
    {
        var (authenticator, _, cache, time) = Create();
        await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None);

        time.Now += TimeSpan.FromMinutes(16);

        Assert.NotNull(await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None));
        Assert.Equal(0, cache.Hits);
    }

    [Fact]
    public async Task A_disabled_account_fails_even_with_a_cached_password()
    {
        var (authenticator, directory, _, _) = Create();
        var credential = PasswordCredential.Create("correct horse", TestData.Iterations);
        directory.Add(Address, credential);
        await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None);

        directory.Add(Address, credential, disabled: true);

        Assert.Null(await authenticator.VerifyPasswordAsync(Address, "correct horse", CancellationToken.None));
    }
}