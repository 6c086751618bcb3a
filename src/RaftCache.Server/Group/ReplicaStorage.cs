using System.Collections.Immutable;
using RaftCache.Raft;

namespace RaftCache.Server.Group;

/// <summary>
/// The <see cref="IStorage"/> of one group replica: the log, hard state and configuration live in a
/// <see cref="MemStorage"/>; snapshots are not stored at all but made when the core asks for one (a follower needs
/// entries the log no longer holds), as an O(1) point-in-time view of the state machine (see
/// <see cref="SnapshotSource"/>). Nothing on the write path copies the cache, so its cost does not grow with the
/// cache (design §4, "Snapshots").
/// </summary>
internal sealed class ReplicaStorage(MemStorage log, Func<ulong, Snapshot> takeSnapshot) : IStorage
{
    /// <summary>The log, hard state and configuration.</summary>
    public MemStorage Log { get; } = log;

    /// <inheritdoc/>
    public RaftState InitialState() => Log.InitialState();

    /// <inheritdoc/>
    public ImmutableArray<Entry> Entries(ulong low, ulong high, long maxSize) => Log.Entries(low, high, maxSize);

    /// <inheritdoc/>
    public ulong Term(ulong index) => Log.Term(index);

    /// <inheritdoc/>
    public ulong FirstIndex() => Log.FirstIndex();

    /// <inheritdoc/>
    public ulong LastIndex() => Log.LastIndex();

    /// <inheritdoc/>
    /// <remarks>A view of the state machine at its applied index, which is at or past every compacted index.</remarks>
    public Snapshot Snapshot(ulong requestIndex) => takeSnapshot(requestIndex);
}
