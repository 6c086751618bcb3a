using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RaftCache;
using RaftCache.Caching;
using RaftCache.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="RaftCacheDistributedCache"/> as the application's <see cref="IDistributedCache"/>.</summary>
public static class RaftCacheDistributedCacheServiceCollectionExtensions
{
    /// <summary>
    /// Makes <see cref="RaftCacheDistributedCache"/> the <see cref="IDistributedCache"/> singleton, replacing one
    /// registered before (such as <c>AddDistributedMemoryCache</c>'s). It uses the <see cref="IRaftCacheClient"/> that
    /// <c>AddRaftCacheClient()</c> registers, which must be called too: it belongs to the Orleans client's
    /// configuration, and without it resolving <see cref="IDistributedCache"/> throws <see cref="InvalidOperationException"/>.
    /// Options bind from the configuration section <c>RaftCacheDistributedCache</c>, then <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Changes to the options after configuration; none if null.</param>
    public static IServiceCollection AddRaftCacheDistributedCache(this IServiceCollection services, Action<RaftCacheDistributedCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RaftCacheDistributedCacheOptions>().BindConfiguration(RaftCacheDistributedCacheOptions.SectionName);
        if (configure is not null) options.Configure(configure);
        options.Validate(o => Enum.IsDefined(o.ReadConsistency),
            $"{RaftCacheDistributedCacheOptions.SectionName}:{nameof(RaftCacheDistributedCacheOptions.ReadConsistency)} must be one of {string.Join(", ", Enum.GetNames<ReadConsistency>())}.")
            .ValidateOnStart();
        services.Replace(ServiceDescriptor.Singleton<IDistributedCache>(sp => new RaftCacheDistributedCache(
            sp.GetService<IRaftCacheClient>() ?? throw new InvalidOperationException(
                "RaftCacheDistributedCache needs an IRaftCacheClient: add it with AddRaftCacheClient() on the Orleans client builder (or the services) as well as AddRaftCacheDistributedCache()."),
            sp.GetRequiredService<IOptions<RaftCacheDistributedCacheOptions>>())));
        return services;
    }
}
