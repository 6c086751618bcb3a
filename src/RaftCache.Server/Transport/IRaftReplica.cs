using Orleans.Concurrency;
using Orleans.Services;

namespace RaftCache.Server.Transport;

/// <summary>
/// The replica service of one silo, as other silos and the façade reach it. A grain service: exactly one per silo,
/// addressed by silo (<see cref="RaftReplicaClient"/>); it hosts this silo's replica of every group it is a member of.
/// </summary>
[Alias("RaftCache.Server.IRaftReplica")]
internal interface IRaftReplica : IGrainService
{
    /// <summary>Raft messages from another silo's replicas, for any groups. One-way: Raft tolerates loss.</summary>
    [OneWay, Alias("Deliver")]
    Task Deliver(RaftBatch batch);

    /// <summary>One piece of a streamed snapshot; the last makes the replica step the InstallSnapshot message.</summary>
    [Alias("InstallSnapshotChunk")]
    Task<bool> InstallSnapshotChunk(SnapshotChunk chunk);

    /// <summary>
    /// Runs a batch of independent operations on this silo's replica: writes and lease reads if it leads (otherwise
    /// <see cref="CacheStatusCode.NotLeader"/> with the leader it knows), linearizable reads as leader or follower,
    /// local reads from its own state. One reply per request, in order.
    /// </summary>
    [Alias("Execute")]
    Task<CacheReply[]> Execute(CacheRequest[] requests, TimeSpan timeout);

    /// <summary>The status of each of this silo's group replicas (one entry saying so if it has none).</summary>
    [Alias("GetStatus")]
    Task<ReplicaStatus[]> GetStatus();

    /// <summary>The cluster's group layout, if this silo knows it (a forming cluster asks every live silo before creating one).</summary>
    [Alias("GetLayout")]
    Task<ClusterLayout?> GetLayout();

    /// <summary>
    /// Whether <paramref name="memberId"/> is in <paramref name="group"/>'s configuration as this silo's replica, if it
    /// leads the group, has applied it; null if this silo does not lead the group. A replica that placement moved
    /// elsewhere asks, because a removed member is not told of its removal (Raft §4.2.2 of the thesis).
    /// </summary>
    [Alias("IsMember")]
    Task<bool?> IsMember(GroupId group, ulong memberId);

    /// <summary>Asks the leader to remove <paramref name="memberId"/> from the group (a silo leaving gracefully).</summary>
    [Alias("RequestRemoval")]
    Task<CacheReply> RequestRemoval(GroupId group, ulong memberId, TimeSpan timeout);

    /// <summary>This silo's replica of group <paramref name="index"/> of <paramref name="layout"/> as recovery sees it, or null if it holds none.</summary>
    [Alias("GetRecoveryState")]
    Task<RecoveryState?> GetRecoveryState(Guid layout, int index);

    /// <summary>
    /// Fences this silo's replica of <paramref name="group"/> for recovery <paramref name="recoveryId"/>: it stops
    /// stepping messages, ticking and serving, so that its log no longer changes, and returns its state. Null if it holds
    /// no replica of that group and epoch, or another recovery holds it. The fence lifts by itself after
    /// <paramref name="hold"/> unless the recovery completes.
    /// </summary>
    [Alias("FenceForRecovery")]
    Task<RecoveryState?> FenceForRecovery(GroupId group, Guid recoveryId, TimeSpan hold);

    /// <summary>Re-forms this silo's fenced replica in the plan's epoch; false if it is not fenced by the plan's recovery.</summary>
    [Alias("CompleteRecovery")]
    Task<bool> CompleteRecovery(RecoveryPlan plan);

    /// <summary>Lifts the fence of an abandoned recovery.</summary>
    [Alias("ReleaseFence")]
    Task ReleaseFence(GroupId group, Guid recoveryId);

    /// <summary>
    /// Forms <paramref name="group"/> anew, empty, with this silo's replica as its only voter: the recovery of a group
    /// none of whose replicas survived. False if this silo holds a replica of the group in that epoch or a later one.
    /// </summary>
    [Alias("FormGroupAnew")]
    Task<bool> FormGroupAnew(GroupId group);
}
