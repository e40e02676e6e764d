using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

using Pochta.Hosting;

namespace Pochta.Pop3;

public static class Pop3ServiceCollectionExtensions
{
    /// <summary>Registers <see cref="Pop3Options"/> (section <c>Pop3</c>, validated at start), the
    /// maildrop registry and the <see cref="IMailProtocolHandler"/> for POP3 and POP3S. Expects the
    /// host to provide IMailStore, IAuthenticator, IOptions&lt;ServerOptions&gt;, TimeProvider and logging.</summary>
    public static IServiceCollection AddPochtaPop3(this IServiceCollection services)
    {
        services.AddOptions<Pop3Options>()
            .BindConfiguration(Pop3Options.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<Pop3MaildropRegistry>();
        services.AddSingleton<IMailProtocolHandler, Pop3ProtocolHandler>();
        return services;
    }
}