using System.Diagnostics;
using System.Text;

namespace RaftCache;

/// <summary>
/// What the client's and the silos' spans share: the <see cref="ActivitySource"/>, attribute names, and the names of
/// operations and span names, computed once so that a traced operation allocates no strings for them.
/// </summary>
internal static class CacheTracing
{
    public const string OperationAttribute = "raftcache.operation";
    public const string GroupAttribute = "raftcache.group";
    public const string ConsistencyAttribute = "raftcache.read.consistency";
    public const string IndexAttribute = "raftcache.raft.index";

    /// <summary>OpenTelemetry's attribute for the kind of failure (semantic conventions, <c>error.type</c>).</summary>
    public const string ErrorTypeAttribute = "error.type";

    public static readonly ActivitySource Source = new(RaftCacheTelemetry.ActivitySourceName, typeof(CacheTracing).Assembly.GetName().Version?.ToString());

    private static readonly string?[] OperationNames = SnakeCaseNames<CacheOperation>(string.Empty);
    private static readonly string?[] ClientSpanNames = SnakeCaseNames<CacheOperation>("raftcache ");
    private static readonly string?[] FacadeSpanNames = SnakeCaseNames<CacheOperation>("raftcache.facade ");
    private static readonly string?[] ConsistencyNames = SnakeCaseNames<ReadConsistency>(string.Empty);
    private static readonly string?[] StatusNames = SnakeCaseNames<CacheStatusCode>(string.Empty);

    /// <summary>The value of <see cref="OperationAttribute"/>: <c>get</c>, <c>put</c>, <c>register_session</c>….</summary>
    public static string OperationName(CacheOperation operation) => Lookup(OperationNames, (int)operation) ?? operation.ToString();

    /// <summary>The client's span name of an operation, <c>raftcache put</c>.</summary>
    public static string ClientSpanName(CacheOperation operation) => Lookup(ClientSpanNames, (int)operation) ?? "raftcache " + operation;

    /// <summary>The façade's span name of an operation, <c>raftcache.facade put</c>.</summary>
    public static string FacadeSpanName(CacheOperation operation) => Lookup(FacadeSpanNames, (int)operation) ?? "raftcache.facade " + operation;

    /// <summary>The value of <see cref="ConsistencyAttribute"/>: <c>linearizable</c>, <c>lease</c>, <c>local</c>.</summary>
    public static string ConsistencyName(ReadConsistency consistency) => Lookup(ConsistencyNames, (int)consistency) ?? consistency.ToString();

    /// <summary>The <see cref="ErrorTypeAttribute"/> of a reply that failed on a silo: its status, <c>outcome_unknown</c>.</summary>
    public static string StatusName(CacheStatusCode status) => Lookup(StatusNames, (int)status) ?? status.ToString();

    /// <summary>
    /// Starts a span for <paramref name="request"/>: a child of the span that sent it (<see cref="CacheRequest.TraceParent"/>),
    /// or of <see cref="Activity.Current"/> when it carries none. Null when nothing listens, without parsing or
    /// allocating anything then.
    /// </summary>
    public static Activity? Start(string name, ActivityKind kind, CacheRequest request, DateTimeOffset startTime = default)
    {
        if (!Source.HasListeners()) return null;
        ActivityContext parent = default;
        if (request.TraceParent is { } traceParent) _ = ActivityContext.TryParse(traceParent, null, isRemote: true, out parent);
        var activity = Source.StartActivity(name, kind, parent, startTime: startTime);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(OperationAttribute, OperationName(request.Operation));
            activity.SetTag(GroupAttribute, request.Group);
            if (!request.IsWrite) activity.SetTag(ConsistencyAttribute, ConsistencyName(request.Consistency));
        }

        return activity;
    }

    /// <summary><paramref name="request"/> carrying <paramref name="sender"/> as its parent span, to the next hop.</summary>
    public static CacheRequest Carrying(CacheRequest request, Activity? sender) =>
        sender is { IdFormat: ActivityIdFormat.W3C } ? request with { TraceParent = sender.Id } : request;

    /// <summary>Marks <paramref name="activity"/> failed, with <c>error.type</c> as the semantic conventions ask.</summary>
    public static void Fail(Activity activity, string errorType, string? description)
    {
        activity.SetStatus(ActivityStatusCode.Error, description);
        activity.SetTag(ErrorTypeAttribute, errorType);
    }

    // Null for a value this build does not know (sent by a newer peer): the caller names it, at a cost.
    private static string? Lookup(string?[] names, int index) => (uint)index < (uint)names.Length ? names[index] : null;

    /// <summary><paramref name="prefix"/> and the snake_case name of each value of <typeparamref name="T"/>, by value.</summary>
    private static string?[] SnakeCaseNames<T>(string prefix) where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        var names = new string?[values.Max(v => Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)) + 1];
        foreach (var value in values)
        {
            var text = new StringBuilder(prefix);
            foreach (var c in value.ToString())
            {
                if (char.IsUpper(c) && text.Length > prefix.Length) text.Append('_');
                text.Append(char.ToLowerInvariant(c));
            }

            names[Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)] = text.ToString();
        }

        return names;
    }
}
