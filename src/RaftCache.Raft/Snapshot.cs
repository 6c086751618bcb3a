namespace RaftCache.Raft;

/// <summary>What a snapshot covers (Raft §7).</summary>
/// <param name="Index">The last log index the snapshot includes.</param>
/// <param name="Term">The term of that entry.</param>
/// <param name="ConfState">The configuration in force at <paramref name="Index"/>.</param>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ConfState ConfState);

/// <summary>A point-in-time image of the application state, replacing the log up to <see cref="SnapshotMetadata.Index"/>.</summary>
/// <param name="Metadata">Index, term and configuration.</param>
/// <param name="Data">The application's serialized state; opaque to Raft, never mutated once created.</param>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data)
{
    /// <summary>The snapshot of a node that has none.</summary>
    public static Snapshot Empty { get; } = new(new SnapshotMetadata(0, 0, ConfState.Empty), ReadOnlyMemory<byte>.Empty);

    /// <summary>True when this is <see cref="Empty"/> in value.</summary>
    public bool IsEmpty => Metadata.Index == 0;
}
