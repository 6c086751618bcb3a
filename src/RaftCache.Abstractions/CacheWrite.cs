namespace RaftCache;

/// <summary>
/// A write command with the client session that makes retries safe (Raft thesis §6.3): the replica applies a given
/// (<see cref="SessionId"/>, <see cref="Sequence"/>) at most once and answers a retry with the original result.
/// </summary>
[GenerateSerializer, Immutable, Alias("RaftCache.CacheWrite")]
public sealed record CacheWrite
{
    /// <summary>Which command.</summary>
    [Id(0)] public CacheWriteKind Kind { get; init; }

    /// <summary>The key (Put, Delete).</summary>
    [Id(1)] public byte[]? Key { get; init; }

    /// <summary>The value (Put).</summary>
    [Id(2)] public byte[]? Value { get; init; }

    /// <summary>Time to live (Put); null for no expiry.</summary>
    [Id(3)] public TimeSpan? Ttl { get; init; }

    /// <summary>The client session, or 0 for none (then a retry may apply twice).</summary>
    [Id(4)] public long SessionId { get; init; }

    /// <summary>The command's sequence number in its session, from 1.</summary>
    [Id(5)] public long Sequence { get; init; }

    /// <summary>The lowest sequence number whose answer the client has not yet received; results below it are forgotten.</summary>
    [Id(6)] public long LowestUnansweredSequence { get; init; }
}
