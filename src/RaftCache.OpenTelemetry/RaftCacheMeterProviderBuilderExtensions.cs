using RaftCache.OpenTelemetry;

namespace OpenTelemetry.Metrics;

/// <summary>Adds RaftCache's metrics to an OpenTelemetry meter provider.</summary>
public static class RaftCacheMeterProviderBuilderExtensions
{
    /// <summary>
    /// Listens to the meters <c>RaftCache.Client</c> (operations, their duration and errors, where the client runs) and
    /// <c>RaftCache</c> (replicas, proposals, reads, Raft messages and snapshots, where a silo runs).
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The builder.</returns>
    public static MeterProviderBuilder AddRaftCacheInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(RaftCacheNames.ClientMeterName, RaftCacheNames.MeterName);
    }
}
