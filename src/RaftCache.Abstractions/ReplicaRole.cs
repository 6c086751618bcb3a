namespace RaftCache;

/// <summary>What a status entry describes: a replica in one of its Raft roles, or a silo that holds no replica.</summary>
[GenerateSerializer, Alias("RaftCache.ReplicaRole")]
public enum ReplicaRole : byte
{
    /// <summary>A silo that holds no replica of any group (placement put the groups elsewhere).</summary>
    None = 0,

    /// <summary>A silo that waits for the cluster to form its groups.</summary>
    Joining = 1,

    /// <summary>A voter that follows the group's leader.</summary>
    Follower = 2,

    /// <summary>A voter that asks the others whether it could win an election (pre-vote, thesis §9.6).</summary>
    PreCandidate = 3,

    /// <summary>A voter that campaigns for leadership.</summary>
    Candidate = 4,

    /// <summary>The group's leader.</summary>
    Leader = 5,

    /// <summary>A non-voting member that receives the log (a new member catching up).</summary>
    Learner = 6,
}
