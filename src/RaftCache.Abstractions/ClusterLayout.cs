using System.IO.Hashing;

namespace RaftCache;

/// <summary>
/// How a cluster's keyspace is divided, decided once when the cluster is first formed: a key's slot is a stable hash
/// of its bytes, and the slots are split into <see cref="Groups"/> contiguous ranges, each replicated by its own Raft
/// group. Slots decouple keys from groups: a later change of the number of groups could move whole slots without
/// rehashing a key.
/// </summary>
/// <param name="Id">Identifies the layout, and so the cluster's groups: messages carry it, and a replica never steps
/// another layout's traffic.</param>
/// <param name="Slots">The number of slots.</param>
/// <param name="Groups">The number of Raft groups, at most <paramref name="Slots"/>.</param>
[GenerateSerializer, Immutable, Alias("RaftCache.ClusterLayout")]
public sealed record ClusterLayout([property: Id(0)] Guid Id, [property: Id(1)] int Slots, [property: Id(2)] int Groups)
{
    /// <summary>The slot of <paramref name="key"/>: XxHash3 of its bytes, modulo <see cref="Slots"/>. Stable across processes and versions.</summary>
    public int SlotOf(ReadOnlySpan<byte> key) => (int)(XxHash3.HashToUInt64(key) % (ulong)Slots);

    /// <summary>The group that owns <paramref name="slot"/>: slots are split into equal contiguous ranges.</summary>
    public int GroupOfSlot(int slot) => (int)((long)slot * Groups / Slots);

    /// <summary>The group that owns <paramref name="key"/>.</summary>
    public int GroupOf(ReadOnlySpan<byte> key) => GroupOfSlot(SlotOf(key));
}
