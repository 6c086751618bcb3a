namespace RaftCache.Server.Transport;

/// <summary>
/// One Raft group of a cluster, in one epoch: the id of the cluster's group layout, chosen once when the cluster is
/// first formed, the group's number within it, and the epoch of the group's configuration history. Messages carry it,
/// so a replica never steps another cluster's traffic, nor a replica's of an epoch before a quorum-loss recovery.
/// </summary>
/// <param name="Layout">The layout id; empty for "no group".</param>
/// <param name="Index">The group's number, from 0.</param>
/// <param name="Epoch">
/// 0 for the group as first formed; after a quorum-loss recovery, the term the recovered group started in. Every term
/// of the old history is below it, so entries of terms below the epoch are the old history (design §4,
/// "Quorum-loss recovery", in docs/design.md).
/// </param>
[GenerateSerializer, Immutable, Alias("RaftCache.Server.GroupId")]
internal readonly record struct GroupId([property: Id(0)] Guid Layout, [property: Id(1)] int Index, [property: Id(2)] ulong Epoch = 0)
{
    /// <summary>Whether this names no group.</summary>
    public bool IsNone => Layout == Guid.Empty;

    /// <inheritdoc/>
    public override string ToString() => IsNone ? "none" : Epoch == 0 ? $"{Layout.ToString("N")[..8]}/{Index}" : $"{Layout.ToString("N")[..8]}/{Index}@{Epoch}";
}
