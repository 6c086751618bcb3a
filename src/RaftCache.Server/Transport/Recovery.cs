namespace RaftCache.Server.Transport;

/// <summary>
/// One replica's state as quorum-loss recovery needs it: its place in the group's history (epoch, term, last log
/// entry, the last commit it heard of) and the configuration it applied. Read from storage, so it describes only what
/// the replica persisted.
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

    /// <summary>The highest commit index a leader announced to this replica (it may be past the replica's own log).</summary>
    [Id(7)] public ulong LeaderCommitSeen { get; init; }

    [Id(8)] public ulong[] Voters { get; init; } = [];

    /// <summary>The voters of the outgoing half while the configuration is joint, else empty.</summary>
    [Id(9)] public ulong[] VotersOutgoing { get; init; } = [];

    [Id(10)] public ulong[] Learners { get; init; } = [];

    /// <summary>The replica stopped (an entry it could not apply): it cannot be a survivor.</summary>
    [Id(13)] public string? Fault { get; init; }

    /// <summary>Whether the replica is a voter of the configuration it applied (of either half while joint).</summary>
    public bool IsVoter => Voters.Contains(MemberId) || VotersOutgoing.Contains(MemberId);

    /// <summary>Whether the replica is a member (voter or learner) of the configuration it applied.</summary>
    public bool IsMember => IsVoter || Learners.Contains(MemberId);
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
