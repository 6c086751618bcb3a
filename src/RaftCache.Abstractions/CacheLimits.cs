namespace RaftCache;

/// <summary>
/// The limits a cluster enforces on requests, so that a client can refuse bad input before it sends anything: an
/// over-limit value is then never carried to a silo only to be rejected there.
/// </summary>
[GenerateSerializer, Immutable, Alias("RaftCache.CacheLimits")]
public sealed record CacheLimits
{
    /// <summary>The largest key in bytes.</summary>
    [Id(0)] public int MaxKeyBytes { get; init; }

    /// <summary>The largest value in bytes.</summary>
    [Id(1)] public int MaxValueBytes { get; init; }

    /// <summary>The longest time to live a put may ask for.</summary>
    [Id(2)] public TimeSpan MaxTtl { get; init; }

    /// <summary>
    /// The largest distance between a write's sequence number and the lowest sequence number its session has not yet
    /// seen answered (Raft thesis §6.3): the window within which one client session may have writes outstanding.
    /// </summary>
    [Id(3)] public int MaxInFlightPerSession { get; init; }

    /// <summary>
    /// How the keyspace is divided into Raft groups, or null while the cluster has not formed its groups yet. A client
    /// keeps one session per group it writes to (a session is part of one group's replicated state).
    /// </summary>
    [Id(4)] public ClusterLayout? Layout { get; init; }
}
