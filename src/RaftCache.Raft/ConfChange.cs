using System.Collections.Immutable;

namespace RaftCache.Raft;

/// <summary>One change to the membership (etcd raft's ConfChangeSingle).</summary>
public enum ConfChangeType : byte
{
    /// <summary>Add a voter, or promote a learner to voter.</summary>
    AddNode = 0,

    /// <summary>Add a learner, or demote a voter to learner.</summary>
    AddLearnerNode = 1,

    /// <summary>Remove a voter or learner.</summary>
    RemoveNode = 2,
}

/// <summary>How a change set moves between configurations (thesis §4.3; etcd's ConfChangeTransition).</summary>
public enum ConfChangeTransition : byte
{
    /// <summary>One-step change when the set changes at most one voter; otherwise joint with auto-leave.</summary>
    Auto = 0,

    /// <summary>Always through a joint configuration, left automatically once applied.</summary>
    JointImplicit = 1,

    /// <summary>Always through a joint configuration, left only by an explicit empty change.</summary>
    JointExplicit = 2,
}

/// <summary>A single membership change of one node.</summary>
/// <param name="Type">What to do.</param>
/// <param name="NodeId">The node it applies to.</param>
public readonly record struct ConfChangeSingle(ConfChangeType Type, ulong NodeId);

/// <summary>
/// A set of membership changes proposed as one log entry (etcd's ConfChangeV2). An empty <see cref="Changes"/> list
/// leaves a joint configuration. <see cref="Context"/> is opaque to Raft and handed back to the application when the
/// entry is applied (RaftCache records members' silo addresses there).
/// </summary>
public sealed record ConfChange
{
    /// <summary>How to transition.</summary>
    public ConfChangeTransition Transition { get; init; }

    /// <summary>The changes, applied in order.</summary>
    public ImmutableArray<ConfChangeSingle> Changes { get; init; } = [];

    /// <summary>Application data carried with the change.</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    /// <summary>True for the empty change that leaves a joint configuration.</summary>
    public bool IsLeaveJoint => Changes.IsEmpty;
}
