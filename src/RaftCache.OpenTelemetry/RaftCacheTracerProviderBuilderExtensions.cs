using RaftCache.OpenTelemetry;

namespace OpenTelemetry.Trace;

/// <summary>Adds RaftCache's spans to an OpenTelemetry tracer provider.</summary>
public static class RaftCacheTracerProviderBuilderExtensions
{
    /// <summary>
    /// Listens to the activity source <c>RaftCache</c>: the client's span per operation (<c>raftcache put</c>…), the
    /// façade's span per request (<c>raftcache.facade put</c>…), and the leader's <c>raftcache.replica propose</c> and
    /// <c>raftcache.replica apply</c> spans of each write. Add it on the client and on the silos.
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddRaftCacheInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(RaftCacheNames.ActivitySourceName);
    }
}
