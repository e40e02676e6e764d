using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

using Pochta.Storage;

namespace Pochta.Sasl;

public static class SaslServiceCollectionExtensions
{
    /// <summary>Registers <see cref="IAuthenticator"/> (singleton) over the registered <see cref="IMailStore"/>.</summary>
    public static IServiceCollection AddPochtaSasl(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IAuthenticator>(sp => new Authenticator(sp.GetRequiredService<IMailStore>()));
        return services;
    }
}