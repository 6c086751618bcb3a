using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RaftCache.Client;

/// <summary>
/// The client's span per operation (<c>raftcache put</c>, Client kind) and its metrics, on the meter
/// <see cref="RaftCacheTelemetry.ClientMeterName"/>. An operation is observed only while something listens
/// (<see cref="Enabled"/>); otherwise it costs that one check.
/// </summary>
/// <remarks>
/// The meter is static, not made by an <c>IMeterFactory</c>: clients are also created without dependency injection
/// (<c>new RaftCacheClient(GrainFactory)</c> in a grain), and all of a process's clients are one caller's view.
/// </remarks>
internal static class ClientTelemetry
{
    // Cache operations take from a fraction of a millisecond (a local read) to the call timeout: the default buckets of
    // OpenTelemetry, made for milliseconds, would put them all in the first one.
    internal static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly Meter Meter = new(RaftCacheTelemetry.ClientMeterName, typeof(ClientTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> Operations = Meter.CreateCounter<long>(
        "raftcache.client.operations", "{operation}", "Operations completed by the client, successful or not.");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram(
        "raftcache.client.operation.duration", "s", "From the call of an operation until its answer or error.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    private static readonly Counter<long> Errors = Meter.CreateCounter<long>(
        "raftcache.client.operation.errors", "{error}", "Operations that ended with an error, by error.type.");

    /// <summary>Whether anything listens to the client's spans or metrics.</summary>
    public static bool Enabled => CacheTracing.Source.HasListeners() || Operations.Enabled || Duration.Enabled || Errors.Enabled;

    /// <summary>
    /// Starts the span of an operation that began at <paramref name="started"/> (a <see cref="Stopwatch"/>
    /// timestamp): the span covers what happened before it was addressed to a group, such as fetching the limits.
    /// </summary>
    public static Activity? Start(CacheRequest request, long started) =>
        CacheTracing.Source.HasListeners()
            ? CacheTracing.Start(CacheTracing.ClientSpanName(request.Operation), ActivityKind.Client, request, DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(started))
            : null;

    /// <summary><paramref name="request"/> carrying the current operation's span (none when it is not one of ours).</summary>
    public static CacheRequest Carrying(CacheRequest request) =>
        Activity.Current is { } current && current.Source == CacheTracing.Source ? CacheTracing.Carrying(request, current) : request;

    /// <summary>Ends an operation with <paramref name="reply"/>: a failed status is the error the caller will see.</summary>
    public static void Stop(Activity? activity, CacheRequest request, long started, CacheReply reply)
    {
        if (reply.Status == CacheStatusCode.Ok)
        {
            Record(request, started, errorType: null);
            activity?.Dispose();
        }
        else
        {
            Stop(activity, request, started, RaftCacheException.From(reply));
        }
    }

    /// <summary>Ends an operation that threw <paramref name="error"/>.</summary>
    public static void Stop(Activity? activity, CacheRequest request, long started, Exception error)
    {
        // The semantic conventions' error.type for an exception: its fully qualified type name.
        var errorType = error.GetType().FullName ?? error.GetType().Name;
        Record(request, started, errorType);
        if (activity is null) return;
        CacheTracing.Fail(activity, errorType, error.Message);
        activity.Dispose();
    }

    private static void Record(CacheRequest request, long started, string? errorType)
    {
        var tags = new TagList { { CacheTracing.OperationAttribute, CacheTracing.OperationName(request.Operation) } };
        if (!request.IsWrite) tags.Add(CacheTracing.ConsistencyAttribute, CacheTracing.ConsistencyName(request.Consistency));
        if (errorType is not null) tags.Add(CacheTracing.ErrorTypeAttribute, errorType);
        Operations.Add(1, tags);
        Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        if (errorType is not null) Errors.Add(1, tags);
    }
}
