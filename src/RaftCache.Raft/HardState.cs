namespace RaftCache.Raft;

/// <summary>The state a node must persist before it sends any message that depends on it (Raft Figure 2, thesis §3.8).</summary>
/// <param name="Term">The latest term the node has seen.</param>
/// <param name="Vote">The candidate voted for in <paramref name="Term"/>, or <see cref="RaftConfig.None"/>.</param>
/// <param name="Commit">The highest log index known committed.</param>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    /// <summary>True for the state of a node that has never persisted anything.</summary>
    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;
}

/// <summary>Volatile state that the application may want to observe; not persisted.</summary>
/// <param name="Leader">The known leader, or <see cref="RaftConfig.None"/>.</param>
/// <param name="Role">This node's role.</param>
public readonly record struct SoftState(ulong Leader, StateRole Role);

/// <summary>The role of a node (Raft §5.1), plus the pre-candidate role of the pre-vote phase (thesis §9.6).</summary>
public enum StateRole
{
    /// <summary>Passive: answers leaders and candidates.</summary>
    Follower,

    /// <summary>Asks for votes to become leader.</summary>
    Candidate,

    /// <summary>Handles all proposals and replicates the log.</summary>
    Leader,

    /// <summary>Asks whether it could win an election before disrupting the cluster with a new term (thesis §9.6).</summary>
    PreCandidate,
}
