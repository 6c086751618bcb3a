namespace RaftCache;

/// <summary>What quorum-loss recovery did, or would do, for one Raft group.</summary>
[GenerateSerializer, Alias("RaftCache.RecoveryOutcome")]
public enum RecoveryOutcome : byte
{
    /// <summary>A majority of the group's voters is alive: nothing to recover (an election may be running).</summary>
    NotNeeded = 0,

    /// <summary>The group lost its quorum; the report says what recovery would keep. Nothing was changed.</summary>
    Planned = 1,

    /// <summary>The group was re-formed from its surviving replicas, in a new epoch.</summary>
    Recovered = 2,

    /// <summary>Recovery is not safe or not possible now (see the message); nothing was changed.</summary>
    Refused = 3,

    /// <summary>
    /// Recovery began but a survivor did not take the new configuration (see the message): the group may still lack a
    /// leader. Ask again: a later recovery starts from the state the survivors are in.
    /// </summary>
    Failed = 4,
}

/// <summary>
/// The report of quorum-loss recovery for one group (<c>IRaftCacheClient.RecoverQuorumAsync</c>): which survivor's log
/// was kept and what can have been lost. Entries that only the dead voters held are lost; the survivors cannot know how
/// many the dead leader committed after they last heard from it, so <see cref="EntriesBehindKnownCommit"/> is a lower
/// bound, exact only where the survivors heard the last commit.
/// </summary>
[GenerateSerializer, Immutable, Alias("RaftCache.GroupRecovery")]
public sealed record GroupRecovery
{
    /// <summary>The group.</summary>
    [Id(0)] public int Group { get; init; }

    /// <summary>What happened.</summary>
    [Id(1)] public RecoveryOutcome Outcome { get; init; }

    /// <summary>An explanation for people: why recovery was refused, or what it did.</summary>
    [Id(2)] public string Message { get; init; } = "";

    /// <summary>The silo of the survivor whose log is kept (the most up-to-date: highest last term, then last index).</summary>
    [Id(3)] public string? ChosenSilo { get; init; }

    /// <summary>The Raft member id of the chosen survivor.</summary>
    [Id(4)] public ulong ChosenMemberId { get; init; }

    /// <summary>The last index of the chosen survivor's log: every entry up to it is kept, and committed by recovery.</summary>
    [Id(5)] public ulong KeptIndex { get; init; }

    /// <summary>The term of the entry at <see cref="KeptIndex"/>.</summary>
    [Id(6)] public ulong KeptTerm { get; init; }

    /// <summary>The highest commit index any survivor heard from a leader (0 if none heard any).</summary>
    [Id(7)] public ulong LastKnownCommit { get; init; }

    /// <summary>
    /// Committed entries known to be lost: how far <see cref="KeptIndex"/> is behind <see cref="LastKnownCommit"/>
    /// (0 when the kept log reaches it). Entries the dead leader committed later are lost too, and not counted.
    /// </summary>
    [Id(8)] public ulong EntriesBehindKnownCommit { get; init; }

    /// <summary>
    /// Entries past <see cref="LastKnownCommit"/> that the chosen survivor held and recovery commits: writes whose
    /// callers were answered "outcome unknown" (or not yet answered) and now take effect.
    /// </summary>
    [Id(9)] public ulong EntriesCommittedByRecovery { get; init; }

    /// <summary>The silos of the surviving replicas, which are the voters of the recovered configuration.</summary>
    [Id(10)] public string[] Survivors { get; init; } = [];

    /// <summary>The voters of the lost configuration whose silos Orleans declared dead (silo address, or member id if unknown).</summary>
    [Id(11)] public string[] DeadVoters { get; init; } = [];

    /// <summary>
    /// The group's epoch after recovery (the term the recovered group starts in); replicas of earlier epochs can never
    /// again take part in the group. 0 when nothing was recovered.
    /// </summary>
    [Id(12)] public ulong Epoch { get; init; }
}
