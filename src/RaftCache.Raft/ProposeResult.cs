namespace RaftCache.Raft;

/// <summary>The outcome of a proposal.</summary>
public enum ProposeOutcome : byte
{
    /// <summary>Appended to the leader's log at <see cref="ProposeResult.Id"/>; committing it is not yet known.</summary>
    Accepted = 0,

    /// <summary>Forwarded to the leader (<see cref="ProposeResult.LeaderHint"/>); no (term, index) is known here.</summary>
    Forwarded = 1,

    /// <summary>This node is not the leader and does not forward; <see cref="ProposeResult.LeaderHint"/> may name it.</summary>
    NotLeader = 2,

    /// <summary>
    /// Not appended: no leader is known, a leadership transfer is running, or the uncommitted-size limit is reached.
    /// Safe to retry.
    /// </summary>
    ProposalDropped = 3,

    /// <summary>Not appended: a configuration change is already pending (not yet applied) on this leader.</summary>
    ConfChangePending = 4,

    /// <summary>Not appended: the configuration change is invalid in the current configuration (see <see cref="ProposeResult.Error"/>).</summary>
    InvalidConfChange = 5,
}

/// <summary>What <see cref="RawNode.Propose"/> or <see cref="RawNode.ProposeConfChange"/> did with a proposal.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Id">The entry's (term, index) when <see cref="ProposeOutcome.Accepted"/>.</param>
/// <param name="LeaderHint">The leader this node knows of, or <see cref="RaftConfig.None"/>.</param>
/// <param name="Error">Why a configuration change is invalid.</param>
public readonly record struct ProposeResult(ProposeOutcome Outcome, EntryId Id, ulong LeaderHint, string? Error = null)
{
    /// <summary>True when the entry was appended to this leader's log.</summary>
    public bool IsAccepted => Outcome == ProposeOutcome.Accepted;
}
