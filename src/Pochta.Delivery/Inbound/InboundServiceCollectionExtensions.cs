using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Pochta.Delivery.Inbound;

public static class InboundServiceCollectionExtensions
{
    /// <summary>Registers <see cref="InboundOptions"/> (section <c>Inbound</c>), the
    /// <see cref="RecipientResolver"/> and <see cref="InboundDelivery"/>. Needs from the host:
    /// IMailStore, IMessageIndexer, IOutboundQueueSignal (AddPochtaOutbound) and TimeProvider.</summary>
    public static IServiceCollection AddPochtaInbound(this IServiceCollection services)
    {
        services.AddOptions<InboundOptions>().BindConfiguration(InboundOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RecipientResolver>();
        services.TryAddSingleton<InboundDelivery>();
        return services;
    }
}