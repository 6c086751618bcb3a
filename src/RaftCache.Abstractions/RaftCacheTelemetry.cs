namespace RaftCache;

/// <summary>
/// The names under which RaftCache reports traces and metrics, for listeners and OpenTelemetry
/// (<c>RaftCache.OpenTelemetry</c> registers all three).
/// </summary>
public static class RaftCacheTelemetry
{
    /// <summary>
    /// The <see cref="System.Diagnostics.ActivitySource"/> of every RaftCache span: the client's operation spans, the
    /// façade's spans and the replicas' propose and apply spans.
    /// </summary>
    public const string ActivitySourceName = "RaftCache";

    /// <summary>The silos' <see cref="System.Diagnostics.Metrics.Meter"/>: replicas, proposals, reads, Raft messages, snapshots.</summary>
    public const string MeterName = "RaftCache";

    /// <summary>
    /// The client's <see cref="System.Diagnostics.Metrics.Meter"/>: operations, their duration and their errors.
    /// Separate from <see cref="MeterName"/> because a process may run both (a silo whose grains use the client), and
    /// an application may want the view of its callers without the replicas' internals, or the other way round.
    /// </summary>
    public const string ClientMeterName = "RaftCache.Client";
}
