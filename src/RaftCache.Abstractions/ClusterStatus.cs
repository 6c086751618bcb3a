namespace RaftCache;

/// <summary>Every replica's status, gathered by the façade.</summary>
[GenerateSerializer, Immutable, Alias("RaftCache.ClusterStatus")]
public sealed record ClusterStatus
{
    /// <summary>
    /// One entry per replica of every active silo that answered (a silo hosts a replica of each group placement puts
    /// on it); a silo that holds no replica answers with one entry whose <see cref="ReplicaStatus.Role"/> is
    /// <see cref="ReplicaRole.None"/> (or <see cref="ReplicaRole.Joining"/> while the cluster forms its groups).
    /// </summary>
    [Id(0)] public ReplicaStatus[] Replicas { get; init; } = [];

    /// <summary>Silos that did not answer, with the reason.</summary>
    [Id(1)] public string[] Unreachable { get; init; } = [];

    /// <summary>The leader of group 0: in a cluster of one group, its leader.</summary>
    public ReplicaStatus? Leader => LeaderOf(0);

    /// <summary>The replica of <paramref name="group"/> that reports itself leader in the highest term, if any.</summary>
    public ReplicaStatus? LeaderOf(int group) =>
        Replicas.Where(r => r.Group == group && r.Role == ReplicaRole.Leader).OrderByDescending(r => r.Term).FirstOrDefault();

    /// <summary>The groups the replicas report, in order.</summary>
    public int[] Groups => [.. Replicas.Where(r => r.IsReplica).Select(r => r.Group).Distinct().Order()];
}
