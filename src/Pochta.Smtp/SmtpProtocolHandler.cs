using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

using Pochta.Core;
using Pochta.Hosting;

namespace Pochta.Smtp;

/// <summary>The SMTP protocol for the MX (25) and submission (587, 465) listeners.</summary>
public sealed class SmtpProtocolHandler(SmtpServerContext context) : IMailProtocolHandler
{
    public IReadOnlyList<MailProtocol> Protocols { get; } = [MailProtocol.Smtp, MailProtocol.Submission, MailProtocol.Submissions];

    public Task RunAsync(MailConnection connection, CancellationToken cancellationToken) =>
        new SmtpSession(connection, context).RunAsync(cancellationToken);
}

public static class SmtpServiceCollectionExtensions
{
    /// <summary>Registers <see cref="SmtpOptions"/> (section <c>Smtp</c>) and the SMTP
    /// <see cref="IMailProtocolHandler"/>. Needs AddPochtaInbound, an IAuthenticator,
    /// IOptions&lt;ServerOptions&gt;, TimeProvider and logging.</summary>
    public static IServiceCollection AddPochtaSmtp(this IServiceCollection services)
    {
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.TrustedNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _) || System.Net.IPAddress.TryParse(n, out _)), "Smtp:TrustedNetworks must be CIDR networks")
            .Validate(o => o.IdleTimeout >= TimeSpan.FromSeconds(1), "Smtp:IdleTimeout must be at least one second")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDiskSpaceProbe>(sp => new DataDirectoryDiskSpaceProbe(sp.GetService<IConfiguration>()));
        services.TryAddSingleton<SmtpServerContext>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMailProtocolHandler, SmtpProtocolHandler>());
        return services;
    }
}