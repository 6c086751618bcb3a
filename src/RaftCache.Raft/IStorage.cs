using System.Collections.Immutable;

namespace RaftCache.Raft;

/// <summary>What a node restarts from: its persisted hard state and configuration.</summary>
/// <param name="HardState">Term, vote and commit.</param>
/// <param name="ConfState">The latest configuration in storage (snapshot or applied conf changes).</param>
public sealed record RaftState(HardState HardState, ConfState ConfState);

/// <summary>
/// The log storage a node reads (the shape of raft-rs' Storage). The driver writes to it between
/// <see cref="RawNode.GetReady"/> and <see cref="RawNode.Advance"/>; the node only reads.
/// </summary>
/// <remarks>Errors are reported by throwing <see cref="StorageException"/>.</remarks>
public interface IStorage
{
    /// <summary>The persisted hard state and configuration.</summary>
    RaftState InitialState();

    /// <summary>
    /// Entries in [<paramref name="low"/>, <paramref name="high"/>), totalling at most <paramref name="maxSize"/>
    /// bytes by <see cref="Entry.Size"/>, but always at least one entry if any is in range.
    /// </summary>
    /// <exception cref="StorageException"><see cref="StorageError.Compacted"/> if <paramref name="low"/> is compacted;
    /// <see cref="StorageError.Unavailable"/> if <paramref name="high"/> is past the last index + 1.</exception>
    ImmutableArray<Entry> Entries(ulong low, ulong high, long maxSize);

    /// <summary>The term of the entry at <paramref name="index"/>, which may be the snapshot's index.</summary>
    /// <exception cref="StorageException"><see cref="StorageError.Compacted"/> or <see cref="StorageError.Unavailable"/>.</exception>
    ulong Term(ulong index);

    /// <summary>The index of the first entry still in the log (the snapshot index + 1).</summary>
    ulong FirstIndex();

    /// <summary>The index of the last entry, or the snapshot index if the log is empty.</summary>
    ulong LastIndex();

    /// <summary>The most recent snapshot, covering at least <paramref name="requestIndex"/> if possible.</summary>
    /// <exception cref="StorageException"><see cref="StorageError.SnapshotTemporarilyUnavailable"/> if it is being
    /// produced; the node retries later.</exception>
    Snapshot Snapshot(ulong requestIndex);
}
