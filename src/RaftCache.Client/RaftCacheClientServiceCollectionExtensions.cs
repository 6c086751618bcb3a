using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RaftCache.Client;

namespace Orleans.Hosting;

/// <summary>Registers <see cref="IRaftCacheClient"/>.</summary>
public static class RaftCacheClientServiceCollectionExtensions
{
    /// <summary>Adds <see cref="IRaftCacheClient"/> to an Orleans client (or silo) builder.</summary>
    public static IClientBuilder AddRaftCacheClient(this IClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRaftCacheClient();
        return builder;
    }

    /// <summary>Adds <see cref="IRaftCacheClient"/> (one session per container) to services that provide an <see cref="IGrainFactory"/>.</summary>
    public static IServiceCollection AddRaftCacheClient(this IServiceCollection services)
    {
        services.TryAddSingleton<IRaftCacheClient>(sp => new RaftCacheClient(sp.GetRequiredService<IGrainFactory>()));
        return services;
    }
}
