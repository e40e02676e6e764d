using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Sasl;
using Pochta.Storage;

namespace Pochta.Pop3.Tests;

public class RegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddOptions<ServerOptions>();
        services.AddSingleton<IMailStore>(_ => throw new InvalidOperationException("not used"));
        services.AddSingleton<IAuthenticator>(_ => throw new InvalidOperationException("not used"));
        services.AddPochtaPop3();
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Options_bind_the_Pop3_section()
    {
        using var provider = Build(new() { ["Pop3:ExpireDays"] = "30", ["Pop3:LoginDelaySeconds"] = "120", ["Pop3:IdleTimeout"] = "00:15:00" });
        var options = provider.GetRequiredService<IOptions<Pop3Options>>().Value;
        Assert.Equal(30, options.ExpireDays);
        Assert.Equal(120, options.LoginDelaySeconds);
        Assert.Equal(TimeSpan.FromMinutes(15), options.IdleTimeout);
    }

    [Theory]
    [InlineData("Pop3:IdleTimeout", "00:09:59")]
    [InlineData("Pop3:ExpireDays", "-1")]
    [InlineData("Pop3:MaxAuthFailures", "0")]
    [InlineData("Pop3:AuthFailureDelay", "00:05:00")]
    public void Invalid_options_fail_validation_naming_the_key(string key, string value)
    {
        using var provider = Build(new() { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<Pop3Options>>().Value);
        Assert.Contains(key.Split(':')[1], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_follow_RFC_1939_and_keep_mail()
    {
        var options = new Pop3Options();
        Assert.True(options.IdleTimeout >= TimeSpan.FromMinutes(10));
        Assert.Null(options.ExpireDays);
        Assert.Null(options.LoginDelaySeconds);
    }

    [Fact]
    public void Handler_serves_pop3_and_pop3s()
    {
        var handler = new Pop3ProtocolHandler(
            null!,
            null!,
            Options.Create(new Pop3Options()),
            Options.Create(new ServerOptions()),
            new Pop3MaildropRegistry(TimeProvider.System),
            TimeProvider.System,
            LoggerFactory.Create(_ => { }).CreateLogger<Pop3ProtocolHandler>());
        Assert.Equal([MailProtocol.Pop3, MailProtocol.Pop3s], handler.Protocols);

        var services = new ServiceCollection().AddPochtaPop3();
        Assert.Single(services, d => d.ServiceType == typeof(IMailProtocolHandler) && d.ImplementationType == typeof(Pop3ProtocolHandler) && d.Lifetime == ServiceLifetime.Singleton);
    }

    [Fact]
    public void Maildrop_lock_is_exclusive_until_released()
    {
        var registry = new Pop3MaildropRegistry(TimeProvider.System);
        var first = registry.TryLock(7);
        Assert.NotNull(first);
        Assert.Null(registry.TryLock(7));
        Assert.NotNull(registry.TryLock(8));
        first.Dispose();
        first.Dispose();
        Assert.NotNull(registry.TryLock(7));
    }
}