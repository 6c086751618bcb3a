namespace RaftCache.Server.Transport;

/// <summary>
/// One replica's state as quorum-loss recovery needs it: its place in the group's history (epoch, last log entry,
/// commit) and the configuration it applied. Read from storage, so it describes only what the replica persisted.
/// </summary>
[GenerateSerializer, Immutable, Alias("RaftCache.Server.RecoveryState")]
internal sealed record RecoveryState
{
    [Id(0)] public required GroupId Group { get; init; }

    [Id(1)] public required ulong MemberId { get; init; }

    [Id(2)] public required SiloAddress Silo { get; init; }

    [Id(3)] public ulong Term { get; init; }

    [Id(4)] public ulong LastIndex { get; init; }

    [Id(5)] public ulong LastTerm { get; init; }

    [Id(6)] public ulong Commit { get; init; }

    /// <summary>The highest commit index a leader announced to this replica (it may be past the replica's own log).</summary>
    [Id(7)] public ulong LeaderCommitSeen { get; init; }

    [Id(8)] public ulong[] Voters { get; init; } = [];

    /// <summary>The voters of the outgoing half while the configuration is joint, else empty.</summary>
    [Id(9)] public ulong[] VotersOutgoing { get; init; } = [];

    [Id(10)] public ulong[] Learners { get; init; } = [];

    /// <summary>Whether the replica knows a leader: a group with a leader is not recovered.</summary>
    [Id(11)] public ulong Leader { get; init; }

    /// <summary>Whether a recovery holds the replica fenced.</summary>
    [Id(12)] public bool Fenced { get; init; }

    /// <summary>The replica stopped (an entry it could not apply): it cannot be a survivor.</summary>
    [Id(13)] public string? Fault { get; init; }

    /// <summary>Whether the replica's log is at least as up-to-date as <paramref name="other"/>'s (Raft §5.4.1).</summary>
    public bool IsAtLeastAsUpToDateAs(RecoveryState other) =>
        LastTerm > other.LastTerm || (LastTerm == other.LastTerm && LastIndex >= other.LastIndex);
}

/// <summary>
/// What a surviving replica becomes when its group is re-formed: the new epoch, the configuration, and the survivor
/// whose log is kept and who leads the first term of the epoch.
/// </summary>
[GenerateSerializer, Immutable, Alias("RaftCache.Server.RecoveryPlan")]
internal sealed record RecoveryPlan
{
    /// <summary>Names the recovery; only the recovery that fenced a replica may re-form it.</summary>
    [Id(0)] public required Guid RecoveryId { get; init; }

    /// <summary>The group as the survivors know it (its epoch before recovery).</summary>
    [Id(1)] public required GroupId Group { get; init; }

    /// <summary>The new epoch: above every survivor's term.</summary>
    [Id(2)] public required ulong Epoch { get; init; }

    [Id(3)] public required ulong[] Voters { get; init; }

    [Id(4)] public required ulong[] Learners { get; init; }

    /// <summary>The survivor whose log is kept: every entry it holds is committed, and every other voter has voted for it.</summary>
    [Id(5)] public required ulong Chosen { get; init; }

    /// <summary>The silo of each member of the new configuration.</summary>
    [Id(6)] public required Dictionary<ulong, SiloAddress> Routes { get; init; }
}
