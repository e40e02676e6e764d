using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pochta.Delivery.Outbound;

public static class OutboundServiceCollectionExtensions
{
    /// <summary>
    /// Registers the outbound queue runner and its parts. Needs from the host: an
    /// <see cref="Storage.IMailStore"/>, an <see cref="Storage.IMessageIndexer"/> (DSNs delivered
    /// locally are indexed), <c>IOptions&lt;ServerOptions&gt;</c> and logging. The SMTP side takes
    /// <see cref="IOutboundQueueSignal"/> and calls Notify after committing remote recipients.
    /// Set <c>Outbound:DkimDirectory</c> (e.g. DATA/dkim) to sign outgoing mail.
    /// </summary>
    public static IServiceCollection AddPochtaOutbound(this IServiceCollection services)
    {
        services.AddOptions<OutboundOptions>().BindConfiguration(OutboundOptions.Section).ValidateDataAnnotations()
            .Validate(
                o => o.TransportMap.Values.All(v => OutboundRouter.TryParseHostPort(v, 25, out _, out _)),
                "Outbound:TransportMap values must be host, host:port or [ipv6]:port.")
            .Validate(
                o => (o.DnsServers ?? []).All(d => System.Net.IPEndPoint.TryParse(d, out _)),
                "Outbound:DnsServers entries must be ip or ip:port.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OutboundQueueSignal>();
        services.TryAddSingleton<IOutboundQueueSignal>(sp => sp.GetRequiredService<OutboundQueueSignal>());
        services.TryAddSingleton<IOutboundDnsResolver>(sp => new DnsClientResolver(sp.GetRequiredService<IOptions<OutboundOptions>>().Value));
        services.TryAddSingleton(sp =>
            new OutboundRouter(sp.GetRequiredService<IOptions<OutboundOptions>>().Value, sp.GetRequiredService<IOutboundDnsResolver>()));
        services.TryAddSingleton(sp =>
        {
            var directory = sp.GetRequiredService<IOptions<OutboundOptions>>().Value.DkimDirectory;
            return new DkimMessageSigner(string.IsNullOrEmpty(directory) ? null : new DkimKeyStore(directory, sp.GetRequiredService<TimeProvider>()));
        });
        services.TryAddSingleton<DsnSender>();
        services.TryAddSingleton<OutboundDelivery>();
        services.AddHostedService<OutboundQueueService>();
        return services;
    }
}