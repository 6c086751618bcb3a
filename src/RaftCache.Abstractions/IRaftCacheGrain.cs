namespace RaftCache;

/// <summary>
/// The façade that accepts cache commands on any silo and forwards them to the Raft leader. Applications use the
/// typed client (<c>IRaftCacheClient</c>) rather than this interface.
/// </summary>
[Alias("RaftCache.IRaftCacheGrain")]
public interface IRaftCacheGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Runs a batch of independent operations and answers each, in order. The operations share the calls, log
    /// appends and read-index rounds of the batch, but no outcome depends on another: each has its own reply, as if
    /// it had been sent alone. Operations on different keys of one batch are not atomic together.
    /// </summary>
    [Alias("Execute")]
    Task<CacheReply[]> Execute(CacheRequest[] requests);

    /// <summary>The limits the cluster enforces on keys, values, time to live and session windows.</summary>
    [Alias("GetLimits")]
    Task<CacheLimits> GetLimits();

    /// <summary>Every replica's status.</summary>
    [Alias("GetStatus")]
    Task<ClusterStatus> GetStatus();

    /// <summary>
    /// The silo this façade runs on and the group leaders that silo knows, at once and without a call to another silo.
    /// A client's call to the stateless façade runs on the silo of the gateway it went through, so this tells a client
    /// which gateway the façade key it called is bound to.
    /// </summary>
    [Alias("Locate")]
    Task<FacadeLocation> Locate();

    /// <summary>
    /// Re-forms groups that lost a majority of their voters from their surviving replicas (docs/design.md, "Quorum-loss
    /// recovery"): <paramref name="group"/> or every group; without <paramref name="confirm"/> only reports what it
    /// would do. A group whose majority of voters is alive, or whose dead voters Orleans has not yet declared dead, is
    /// refused.
    /// </summary>
    [Alias("RecoverQuorum")]
    Task<GroupRecovery[]> RecoverQuorum(int? group, bool confirm);
}
