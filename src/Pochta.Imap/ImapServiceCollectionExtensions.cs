using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

using Pochta.Hosting;

namespace Pochta.Imap;

public static class ImapServiceCollectionExtensions
{
    /// <summary>Registers <see cref="ImapOptions"/> (section <c>Imap</c>, validated at start) and the
    /// IMAP protocol handler for <c>Imap</c> (143, STARTTLS) and <c>Imaps</c> (993) listeners.
    /// Needs IMailStore, IAuthenticator, IMessageIndexer, IOptions&lt;ServerOptions&gt;, TimeProvider.</summary>
    public static IServiceCollection AddPochtaImap(this IServiceCollection services)
    {
        services.AddOptions<ImapOptions>().BindConfiguration(ImapOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ImapProtocolHandler>();
        services.AddSingleton<IMailProtocolHandler>(sp => sp.GetRequiredService<ImapProtocolHandler>());
        return services;
    }
}