namespace RaftCache;

/// <summary>How fresh a read must be.</summary>
// Generated, so that Orleans encodes it without boxing (measured: boxed enums were a twelfth of a silo's allocations).
[GenerateSerializer, Alias("RaftCache.ReadConsistency")]
public enum ReadConsistency : byte
{
    /// <summary>
    /// Linearizable (the default): the leader confirms with a quorum that it still leads (ReadIndex, Raft thesis
    /// §6.4), waits until it applied that point, then reads. Sees every write acknowledged before the read began.
    /// </summary>
    Linearizable = 0,

    /// <summary>
    /// Linearizable as long as clocks drift less than the configured safety margin: the leader serves the read from
    /// its lease without a message round; without a valid lease it falls back to <see cref="Linearizable"/>.
    /// </summary>
    Lease = 1,

    /// <summary>The replica on the silo that serves the call answers from its own state: fast, possibly stale.</summary>
    Local = 2,
}
