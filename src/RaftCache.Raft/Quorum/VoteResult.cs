namespace RaftCache.Raft.Quorum;

/// <summary>The outcome of an election so far.</summary>
public enum VoteResult
{
    /// <summary>Neither a quorum of grants nor of rejections yet.</summary>
    Pending,

    /// <summary>A quorum rejected: the election cannot be won.</summary>
    Lost,

    /// <summary>A quorum granted.</summary>
    Won,
}
