using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

using Pochta.Storage;

namespace Pochta.Mime;

public static class MimeServiceCollectionExtensions
{
    /// <summary>Registers <see cref="IMessageIndexer"/> (<see cref="MessageIndexer"/>, stateless singleton).</summary>
    public static IServiceCollection AddPochtaMime(this IServiceCollection services)
    {
        services.TryAddSingleton<IMessageIndexer, MessageIndexer>();
        return services;
    }
}