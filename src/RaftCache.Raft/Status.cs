using System.Collections.Immutable;

namespace RaftCache.Raft;

/// <summary>How the leader replicates to one follower (etcd raft's progress states).</summary>
public enum ProgressState : byte
{
    /// <summary>Unknown match: one append at a time until the follower's log position is found.</summary>
    Probe = 0,

    /// <summary>Match known: appends are pipelined up to the inflight window.</summary>
    Replicate = 1,

    /// <summary>Waiting for a snapshot to be delivered and acknowledged.</summary>
    Snapshot = 2,
}

/// <summary>The leader's view of one member.</summary>
/// <param name="Match">The highest index known replicated on the member.</param>
/// <param name="Next">The next index to send.</param>
/// <param name="State">The replication state.</param>
/// <param name="IsLearner">Whether the member is a learner.</param>
/// <param name="RecentActive">Whether the member was heard from within the current check-quorum window.</param>
/// <param name="PendingSnapshot">The snapshot index being sent, in <see cref="ProgressState.Snapshot"/>.</param>
/// <param name="InflightCount">Append messages in flight.</param>
public readonly record struct ProgressStatus(
    ulong Match, ulong Next, ProgressState State, bool IsLearner, bool RecentActive, ulong PendingSnapshot, int InflightCount);

/// <summary>A snapshot of a node's state for monitoring and tests.</summary>
public sealed record Status
{
    /// <summary>This node's id.</summary>
    public ulong Id { get; init; }

    /// <summary>Term, vote and commit.</summary>
    public HardState HardState { get; init; }

    /// <summary>Leader and role.</summary>
    public SoftState SoftState { get; init; }

    /// <summary>The last index applied, as reported through <see cref="RawNode.Advance"/>.</summary>
    public ulong Applied { get; init; }

    /// <summary>The last index in this node's log.</summary>
    public ulong LastIndex { get; init; }

    /// <summary>The configuration in force.</summary>
    public ConfState ConfState { get; init; } = ConfState.Empty;

    /// <summary>The leadership transfer target, or <see cref="RaftConfig.None"/>.</summary>
    public ulong LeadTransferee { get; init; }

    /// <summary>Per-member replication progress; only on the leader, otherwise empty. Sorted by id.</summary>
    public ImmutableSortedDictionary<ulong, ProgressStatus> Progress { get; init; } = ImmutableSortedDictionary<ulong, ProgressStatus>.Empty;
}
