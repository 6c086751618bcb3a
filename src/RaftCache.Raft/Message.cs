using System.Collections.Immutable;

namespace RaftCache.Raft;

/// <summary>The kinds of message a node steps. Local ones never leave the node; the rest are the Raft RPCs.</summary>
public enum MessageType : byte
{
    /// <summary>Local: start an election (or pre-vote) now.</summary>
    Hup = 0,

    /// <summary>Local: the leader should send heartbeats now.</summary>
    Beat = 1,

    /// <summary>A client proposal, local or forwarded from a follower to the leader.</summary>
    Propose = 2,

    /// <summary>AppendEntries request (Raft §5.3); also a probe when it carries no entries.</summary>
    Append = 3,

    /// <summary>AppendEntries response; a rejection carries a hint for fast backtracking.</summary>
    AppendResponse = 4,

    /// <summary>RequestVote request (Raft §5.2).</summary>
    RequestVote = 5,

    /// <summary>RequestVote response.</summary>
    RequestVoteResponse = 6,

    /// <summary>Pre-vote request, sent for the next term without incrementing our own (thesis §9.6).</summary>
    RequestPreVote = 7,

    /// <summary>Pre-vote response.</summary>
    RequestPreVoteResponse = 8,

    /// <summary>InstallSnapshot: the whole snapshot in one message; the transport may chunk it (Raft §7).</summary>
    InstallSnapshot = 9,

    /// <summary>Heartbeat: keeps followers from starting elections, carries commit and a read context.</summary>
    Heartbeat = 10,

    /// <summary>Heartbeat response.</summary>
    HeartbeatResponse = 11,

    /// <summary>Local: the transport could not reach <see cref="Message.From"/>.</summary>
    Unreachable = 12,

    /// <summary>Local: the outcome of sending a snapshot (<see cref="Message.Reject"/> = failed).</summary>
    SnapshotStatus = 13,

    /// <summary>Local: the leader should check that a quorum is still active (thesis §6.2).</summary>
    CheckQuorum = 14,

    /// <summary>Ask the leader to transfer leadership to <see cref="Message.From"/> (thesis §3.10).</summary>
    TransferLeader = 15,

    /// <summary>Leader to transfer target: campaign now, skipping the election timeout and pre-vote (thesis §3.10).</summary>
    TimeoutNow = 16,

    /// <summary>A read-index request, local or forwarded from a follower to the leader (thesis §6.4).</summary>
    ReadIndex = 17,

    /// <summary>The leader's answer to a forwarded read-index request.</summary>
    ReadIndexResponse = 18,
}

/// <summary>How a read is confirmed by the leader (thesis §6.4).</summary>
public enum ReadMode : byte
{
    /// <summary>Confirm leadership with a heartbeat round acknowledged by a quorum (ReadIndex).</summary>
    Safe = 0,

    /// <summary>
    /// Rely on the leader lease: no message exchange while the lease is valid; falls back to
    /// <see cref="Safe"/> otherwise. Assumes bounded clock drift between nodes (see README).
    /// </summary>
    LeaseBased = 1,
}

/// <summary>
/// A Raft message. Immutable: once a node has handed it out in a <see cref="Ready"/>, neither the node nor the
/// transport changes it, so an in-process transport may deliver the same instance.
/// </summary>
public sealed record Message
{
    /// <summary>The kind of message.</summary>
    public MessageType Type { get; init; }

    /// <summary>The recipient's id.</summary>
    public ulong To { get; init; }

    /// <summary>The sender's id.</summary>
    public ulong From { get; init; }

    /// <summary>The sender's term; 0 for local messages and forwarded proposals.</summary>
    public ulong Term { get; init; }

    /// <summary>Append: term of the entry at <see cref="Index"/>. Vote: the candidate's last log term. Rejection: hint term.</summary>
    public ulong LogTerm { get; init; }

    /// <summary>Append: index preceding <see cref="Entries"/>. Vote: the candidate's last index. Response: the index acknowledged or rejected.</summary>
    public ulong Index { get; init; }

    /// <summary>Entries to append (Append) or to propose (Propose).</summary>
    public ImmutableArray<Entry> Entries { get; init; } = [];

    /// <summary>The leader's commit index (for a heartbeat: at most the follower's match).</summary>
    public ulong Commit { get; init; }

    /// <summary>The snapshot of an <see cref="MessageType.InstallSnapshot"/> message.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>True when the request is refused (vote not granted, append inconsistent, snapshot failed).</summary>
    public bool Reject { get; init; }

    /// <summary>On a rejected append: the follower's suggestion for the leader's next probe index.</summary>
    public ulong RejectHint { get; init; }

    /// <summary>Read-index request id (ReadIndex, ReadIndexResponse) or heartbeat round (Heartbeat, HeartbeatResponse).</summary>
    public ulong Context { get; init; }

    /// <summary>The read mode of a forwarded <see cref="MessageType.ReadIndex"/>.</summary>
    public ReadMode ReadMode { get; init; }

    /// <summary>
    /// On a vote request: the campaign follows a leadership transfer, so voters must not refuse it because they
    /// heard from a leader recently (thesis §3.10, §4.2.3).
    /// </summary>
    public bool CampaignTransfer { get; init; }
}
