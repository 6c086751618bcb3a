namespace RaftCache;

/// <summary>One replica's view of itself, as reported by its silo.</summary>
[GenerateSerializer, Immutable, Alias("RaftCache.ReplicaStatus")]
public sealed record ReplicaStatus
{
    /// <summary>The silo hosting the replica.</summary>
    [Id(0)] public string Silo { get; init; } = "";

    /// <summary>The replica's Raft member id (derived from the silo incarnation).</summary>
    [Id(1)] public ulong MemberId { get; init; }

    /// <summary>The replica's role in its group, or <see cref="ReplicaRole.None"/> / <see cref="ReplicaRole.Joining"/> for a silo without one.</summary>
    [Id(2)] public ReplicaRole Role { get; init; }

    /// <summary>The current term.</summary>
    [Id(3)] public ulong Term { get; init; }

    /// <summary>The leader's member id as this replica knows it, or 0.</summary>
    [Id(4)] public ulong LeaderId { get; init; }

    /// <summary>The highest log index known committed.</summary>
    [Id(5)] public ulong Commit { get; init; }

    /// <summary>The highest log index applied to the cache.</summary>
    [Id(6)] public ulong Applied { get; init; }

    /// <summary>The last index in the replica's log.</summary>
    [Id(7)] public ulong LastIndex { get; init; }

    /// <summary>The cluster's group layout this replica belongs to (<see cref="ClusterLayout.Id"/>), or empty if it has not joined one.</summary>
    [Id(8)] public Guid GroupId { get; init; }

    /// <summary>The replica's Raft group within the layout.</summary>
    [Id(22)] public int Group { get; init; }

    /// <summary>Voter member ids of the configuration in force (both halves while joint).</summary>
    [Id(9)] public ulong[] Voters { get; init; } = [];

    /// <summary>Learner member ids of the configuration in force.</summary>
    [Id(10)] public ulong[] Learners { get; init; } = [];

    /// <summary>False if the replica stopped applying (an undecodable committed entry) or lost its quorum.</summary>
    [Id(11)] public bool Healthy { get; init; }

    /// <summary>Why the replica is unhealthy, or other notes.</summary>
    [Id(12)] public string? Message { get; init; }

    /// <summary>Number of live cache entries.</summary>
    [Id(13)] public long EntryCount { get; init; }

    /// <summary>A digest of the replica's cache state; equal on replicas that applied the same log.</summary>
    [Id(14)] public ulong StateDigest { get; init; }

    /// <summary>What the replica's entries cost, as counted against the capacity bound (keys, values and per-entry overhead).</summary>
    [Id(15)] public long CacheBytes { get; init; }

    /// <summary>The bytes of Raft log entries the replica holds (after its last compaction).</summary>
    [Id(16)] public long LogBytes { get; init; }

    /// <summary>The first index still in the replica's log; older entries are compacted.</summary>
    [Id(17)] public ulong FirstIndex { get; init; }

    /// <summary>The silo's process id (several silos may share a process, as in the development cluster).</summary>
    [Id(18)] public int ProcessId { get; init; }

    /// <summary>The silo process's working set in bytes, shared by every silo of the process.</summary>
    [Id(19)] public long ProcessMemoryBytes { get; init; }

    /// <summary>The silo process's managed heap size after the last garbage collection, shared by every silo of the process.</summary>
    [Id(20)] public long ManagedHeapBytes { get; init; }

    /// <summary>Orleans messages the silo has sent since it started, to other silos and to clients.</summary>
    [Id(21)] public long OrleansMessagesSent { get; init; }

    /// <summary>How many times the leader this replica knows has changed (to another member or to none) since the replica was created.</summary>
    [Id(23)] public long LeaderChanges { get; init; }

    /// <summary>Whether this entry describes a replica, not a silo that holds none (<see cref="ReplicaRole.None"/> or <see cref="ReplicaRole.Joining"/>).</summary>
    public bool IsReplica => Role is not (ReplicaRole.None or ReplicaRole.Joining);

    /// <summary>
    /// The group's epoch: 0 until the group is re-formed after losing its quorum, then the term the recovered group
    /// started in. Replicas of different epochs never exchange messages.
    /// </summary>
    [Id(24)] public ulong Epoch { get; init; }
}
