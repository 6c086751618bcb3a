using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using RaftCache.Server;
using RaftCache.Server.Host;
using RaftCache.Server.Transport;

namespace Orleans.Hosting;

/// <summary>Adds RaftCache to an Orleans silo.</summary>
public static class RaftCacheSiloBuilderExtensions
{
    /// <summary>
    /// Hosts a RaftCache replica on this silo and the façade grain. Options bind from the configuration section
    /// <c>RaftCache</c>, then <paramref name="configure"/> runs; invalid settings stop the silo at start-up.
    /// </summary>
    public static ISiloBuilder AddRaftCache(this ISiloBuilder builder, Action<RaftCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<RaftCacheOptions>().BindConfiguration(RaftCacheOptions.SectionName).ValidateOnStart();
        if (configure is not null) options.Configure(configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RaftCacheOptions>, RaftCacheOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<RaftCacheInstruments>();
        builder.Services.TryAddSingleton<IRaftReplicaClient, RaftReplicaClient>();
        builder.Services.TryAddSingleton<LocalReplica>();
        builder.Services.TryAddSingleton<QuorumRecovery>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ShutdownObserver>();
        builder.AddGrainService<RaftHostService>();

        // Bound what any connection may make this silo buffer: Orleans closes a connection whose next message is
        // larger, before reading its body. The default (100 MB) let one client make a silo hold a 100 MB value only
        // to reject it. Configured before the application's own settings, which may override it.
        builder.Services.AddOptions<SiloMessagingOptions>().Configure<IOptions<RaftCacheOptions>>((messaging, raftCache) =>
        {
            messaging.MaxMessageBodySize = raftCache.Value.MaxMessageBodyBytes;
            messaging.MaxMessageHeaderSize = RaftCacheOptions.MaxMessageHeaderBytes;
        });
        return builder;
    }
}
