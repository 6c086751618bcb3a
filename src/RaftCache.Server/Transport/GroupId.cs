namespace RaftCache.Server.Transport;

/// <summary>
/// One Raft group of a cluster: the id of the cluster's group layout, chosen once when the cluster is first formed,
/// and the group's number within it. Messages carry it, so a replica never steps another cluster's traffic.
/// </summary>
/// <param name="Layout">The layout id; empty for "no group".</param>
/// <param name="Index">The group's number, from 0.</param>
[GenerateSerializer, Immutable, Alias("RaftCache.Server.GroupId")]
internal readonly record struct GroupId([property: Id(0)] Guid Layout, [property: Id(1)] int Index)
{
    /// <summary>Whether this names no group.</summary>
    public bool IsNone => Layout == Guid.Empty;

    /// <inheritdoc/>
    public override string ToString() => IsNone ? "none" : $"{Layout.ToString("N")[..8]}/{Index}";
}
