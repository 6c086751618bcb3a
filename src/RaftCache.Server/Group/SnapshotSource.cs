using RaftCache.Raft;
using RaftCache.StateMachine;

namespace RaftCache.Server.Group;

/// <summary>
/// A snapshot the leader can stream to followers: its Raft metadata, a point-in-time view of the state machine, and
/// the member routes at the time. Shared by the transfers that use it (<see cref="Users"/>) and disposed once none
/// does, which ends the copy-on-write sharing with the live state.
/// </summary>
internal sealed class SnapshotSource(Snapshot snapshot, StateMachineView view, IReadOnlyList<(ulong MemberId, SiloAddress Silo)> routes) : IDisposable
{
    /// <summary>The snapshot as the Raft core knows it (its data travels separately).</summary>
    public Snapshot Snapshot { get; } = snapshot;

    /// <summary>The snapshot's index: the state machine's applied index when the view was taken.</summary>
    public ulong Index => Snapshot.Metadata.Index;

    /// <summary>The entries in the view.</summary>
    public long EntryCount => view.Count;

    /// <summary>Where each member lives, for a follower that never saw the compacted configuration changes.</summary>
    public IReadOnlyList<(ulong MemberId, SiloAddress Silo)> Routes { get; } = routes;

    /// <summary>Transfers streaming this snapshot now; replica scheduler only.</summary>
    public int Users { get; set; }

    /// <summary>A producer of this snapshot's pieces from the start; one per transfer.</summary>
    public SnapshotChunkProducer OpenProducer() => view.CreateSnapshotProducer();

    public void Dispose() => view.Dispose();
}
