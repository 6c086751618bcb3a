namespace RaftCache.Raft;

/// <summary>The settings of one Raft node. Validated by <see cref="Validate"/> when a <see cref="RawNode"/> is created.</summary>
public sealed record RaftConfig
{
    /// <summary>The id that means "no node" (no leader, no vote).</summary>
    public const ulong None = 0;

    /// <summary>This node's id; never <see cref="None"/>.</summary>
    public ulong Id { get; init; }

    /// <summary>
    /// Ticks a follower waits without hearing from a leader before it campaigns. Each election timeout is drawn
    /// uniformly from [ElectionTick, 2·ElectionTick) (Raft §5.2). Must be greater than <see cref="HeartbeatTick"/>.
    /// Default 10.
    /// </summary>
    public int ElectionTick { get; init; } = 10;

    /// <summary>Ticks between a leader's heartbeats. Default 3.</summary>
    public int HeartbeatTick { get; init; } = 3;

    /// <summary>
    /// The last index applied to the state machine the node restarts with; committed entries after it are handed out
    /// in <see cref="Ready.CommittedEntries"/>. Default 0.
    /// </summary>
    /// <remarks>
    /// <para>0 means "not given": the node starts with applied = the index of the storage's snapshot (the index its
    /// log starts after, <see cref="IStorage.FirstIndex"/> − 1). By leaving it 0 the driver declares that its state
    /// machine reflects that snapshot, for example because it just restored it.</para>
    /// <para>Any other value must lie within [snapshot index, commit index of <see cref="IStorage.InitialState"/>],
    /// or <see cref="RawNode"/>'s constructor throws <see cref="ArgumentException"/> naming the value and the valid
    /// range, as etcd raft refuses it too. Below the snapshot index the entries in between are compacted and can never
    /// be applied: restore the state machine from the storage's snapshot first. Above the commit index the state
    /// machine holds entries the storage does not know as committed.</para>
    /// </remarks>
    public ulong Applied { get; init; }

    /// <summary>The largest total entry size in one append message (at least one entry is always sent). Default 1 MiB.</summary>
    public long MaxSizePerMsg { get; init; } = 1024 * 1024;

    /// <summary>The largest total size of committed entries handed out in one <see cref="Ready"/>. Default 64 MiB.</summary>
    public long MaxCommittedSizePerReady { get; init; } = 64L * 1024 * 1024;

    /// <summary>How many append messages may be in flight to one follower in replicate state. Default 256.</summary>
    public int MaxInflightMsgs { get; init; } = 256;

    /// <summary>
    /// The largest total size of entries the leader holds uncommitted before it drops new proposals;
    /// 0 means unlimited. Default 0.
    /// </summary>
    public long MaxUncommittedEntriesSize { get; init; }

    /// <summary>Whether a node runs a pre-vote round before a real election (thesis §9.6). Default true.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>
    /// Whether a leader steps down when it has not heard from a quorum within an election timeout, and followers
    /// that heard from a leader within it refuse votes (thesis §6.2, §4.2.3). Default true.
    /// </summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Whether followers drop proposals instead of forwarding them to the leader. Default false.</summary>
    public bool DisableProposalForwarding { get; init; }

    /// <summary>
    /// Ticks subtracted from the leader lease to cover clock drift between nodes (thesis §6.4.1): a lease read is
    /// served only if fewer than ElectionTick − LeaseSafetyMarginTicks ticks passed since the sending of the last
    /// heartbeat round a quorum acknowledged. Must be in [1, ElectionTick). Default 2.
    /// </summary>
    public int LeaseSafetyMarginTicks { get; init; } = 2;

    /// <summary>The source of randomized election timeouts; seed it for deterministic tests. Default: a random seed.</summary>
    public Random Random { get; init; } = new();

    /// <summary>Every problem with these settings, each naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Id == None) errors.Add($"{nameof(Id)} must not be {None}.");
        if (HeartbeatTick <= 0) errors.Add($"{nameof(HeartbeatTick)} must be positive (is {HeartbeatTick}).");
        if (ElectionTick <= HeartbeatTick)
            errors.Add($"{nameof(ElectionTick)} ({ElectionTick}) must be greater than {nameof(HeartbeatTick)} ({HeartbeatTick}).");
        if (MaxSizePerMsg <= 0) errors.Add($"{nameof(MaxSizePerMsg)} must be positive (is {MaxSizePerMsg}).");
        if (MaxCommittedSizePerReady <= 0) errors.Add($"{nameof(MaxCommittedSizePerReady)} must be positive (is {MaxCommittedSizePerReady}).");
        if (MaxInflightMsgs <= 0) errors.Add($"{nameof(MaxInflightMsgs)} must be positive (is {MaxInflightMsgs}).");
        if (MaxUncommittedEntriesSize < 0) errors.Add($"{nameof(MaxUncommittedEntriesSize)} must not be negative (is {MaxUncommittedEntriesSize}).");
        if (LeaseSafetyMarginTicks < 1 || LeaseSafetyMarginTicks >= ElectionTick)
            errors.Add($"{nameof(LeaseSafetyMarginTicks)} ({LeaseSafetyMarginTicks}) must be at least 1 and less than {nameof(ElectionTick)} ({ElectionTick}).");
        return errors;
    }
}
