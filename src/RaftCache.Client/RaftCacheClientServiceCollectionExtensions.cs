using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RaftCache.Client;

namespace Orleans.Hosting;

/// <summary>Registers <see cref="IRaftCacheClient"/>.</summary>
public static class RaftCacheClientServiceCollectionExtensions
{
    /// <summary>Adds <see cref="IRaftCacheClient"/> to an Orleans client (or silo) builder.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="callTimeout">The deadline of each call (<see cref="RaftCacheClient.CallTimeout"/>); 10 s if null.</param>
    public static IClientBuilder AddRaftCacheClient(this IClientBuilder builder, TimeSpan? callTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRaftCacheClient(callTimeout);
        return builder;
    }

    /// <summary>Adds <see cref="IRaftCacheClient"/> (one session per container) to services that provide an <see cref="IGrainFactory"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="callTimeout">The deadline of each call (<see cref="RaftCacheClient.CallTimeout"/>); 10 s if null.</param>
    public static IServiceCollection AddRaftCacheClient(this IServiceCollection services, TimeSpan? callTimeout = null)
    {
        services.TryAddSingleton<IRaftCacheClient>(sp => new RaftCacheClient(sp.GetRequiredService<IGrainFactory>(), callTimeout));
        return services;
    }
}
