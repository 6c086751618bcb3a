using System.Diagnostics;

namespace RaftCache.Server;

/// <summary>
/// The silo's spans: one per request in the façade (Server kind, a child of the client's span the request carries),
/// and at the leader one per proposed write from proposal to apply, with the apply itself as a child.
/// </summary>
/// <remarks>
/// These spans overlap within one turn of the façade or the replica (a batch holds many requests), so none of them
/// becomes <see cref="Activity.Current"/>: each is started and stopped with the current activity left as it was, and
/// requests carry their span to the next hop explicitly.
/// </remarks>
internal static class ServerTracing
{
    public const string ProposeSpanName = "raftcache.replica propose";
    public const string ApplySpanName = "raftcache.replica apply";

    /// <summary>
    /// Starts the façade's span of each request; <paramref name="traced"/> are the requests carrying those spans
    /// onward. Null, with the requests unchanged, when nothing samples them.
    /// </summary>
    public static Activity?[]? StartFacade(CacheRequest[] requests, out CacheRequest[] traced)
    {
        traced = requests;
        Activity?[]? spans = null;
        var current = Activity.Current;
        for (var i = 0; i < requests.Length; i++)
        {
            if (requests[i] is not { } request || CacheTracing.Start(CacheTracing.FacadeSpanName(request.Operation), ActivityKind.Server, request) is not { } span) continue;
            Activity.Current = current;
            if (spans is null)
            {
                spans = new Activity?[requests.Length];
                traced = (CacheRequest[])requests.Clone();
            }

            spans[i] = span;
            traced[i] = CacheTracing.Carrying(request, span);
        }

        return spans;
    }

    /// <summary>Starts the span of a write proposed at <paramref name="index"/>, a child of the façade's span it carries.</summary>
    public static Activity? StartPropose(CacheRequest request, ulong index)
    {
        var current = Activity.Current;
        var span = CacheTracing.Start(ProposeSpanName, ActivityKind.Internal, request);
        if (span is null) return null;
        Activity.Current = current;
        if (span.IsAllDataRequested) span.SetTag(CacheTracing.IndexAttribute, (long)index);
        return span;
    }

    /// <summary>Starts the span of applying the entry at <paramref name="index"/>, a child of its <paramref name="propose"/> span.</summary>
    public static Activity? StartApply(Activity propose, ulong index)
    {
        var current = Activity.Current;
        var span = CacheTracing.Source.StartActivity(ApplySpanName, ActivityKind.Internal, propose.Context);
        if (span is null) return null;
        Activity.Current = current;
        if (span.IsAllDataRequested) span.SetTag(CacheTracing.IndexAttribute, (long)index);
        return span;
    }

    /// <summary>Ends the span of each request with its reply.</summary>
    public static void Stop(Activity?[]? spans, CacheReply[] replies)
    {
        if (spans is null) return;
        for (var i = 0; i < spans.Length; i++) Stop(spans[i], replies[i]);
    }

    /// <summary>Ends the span of each request with the exception that ended them all.</summary>
    public static void Stop(Activity?[]? spans, Exception error)
    {
        if (spans is null) return;
        foreach (var span in spans)
        {
            if (span is null) continue;
            CacheTracing.Fail(span, error.GetType().FullName ?? error.GetType().Name, error.Message);
            Stop(span);
        }
    }

    /// <summary>Ends <paramref name="span"/>; a reply other than OK marks it failed, with the status as <c>error.type</c> (a failed condition is an answer, not an error).</summary>
    public static void Stop(Activity? span, CacheReply? reply)
    {
        if (span is null) return;
        if (reply is { Status: not (CacheStatusCode.Ok or CacheStatusCode.ConditionFailed) }) CacheTracing.Fail(span, CacheTracing.StatusName(reply.Status), reply.Message);
        Stop(span);
    }

    /// <summary>Ends <paramref name="span"/> and leaves <see cref="Activity.Current"/> as it was (stopping sets it to the span's parent).</summary>
    public static void Stop(Activity? span)
    {
        if (span is null) return;
        var current = Activity.Current;
        span.Stop();
        Activity.Current = current;
    }
}
