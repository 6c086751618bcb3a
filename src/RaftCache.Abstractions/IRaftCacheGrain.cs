namespace RaftCache;

/// <summary>
/// The façade that accepts cache commands on any silo and forwards them to the Raft leader. Applications use the
/// typed client (<c>IRaftCacheClient</c>) rather than this interface.
/// </summary>
[Alias("RaftCache.IRaftCacheGrain")]
public interface IRaftCacheGrain : IGrainWithIntegerKey
{
    /// <summary>Reads <paramref name="key"/> at the given consistency.</summary>
    [Alias("Get")]
    Task<CacheReply> Get(byte[] key, ReadConsistency consistency);

    /// <summary>Applies a write through the replicated log.</summary>
    [Alias("Write")]
    Task<CacheReply> Write(CacheWrite write);

    /// <summary>Registers a client session through the log; the reply carries its id.</summary>
    [Alias("RegisterSession")]
    Task<CacheReply> RegisterSession();

    /// <summary>The limits the cluster enforces on keys, values, time to live and session windows.</summary>
    [Alias("GetLimits")]
    Task<CacheLimits> GetLimits();

    /// <summary>Every replica's status.</summary>
    [Alias("GetStatus")]
    Task<ClusterStatus> GetStatus();
}
