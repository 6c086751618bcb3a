namespace RaftCache;

/// <summary>Every replica's status, gathered by the façade.</summary>
[GenerateSerializer, Immutable, Alias("RaftCache.ClusterStatus")]
public sealed record ClusterStatus
{
    /// <summary>One entry per active silo that answered, sorted by silo.</summary>
    [Id(0)] public ReplicaStatus[] Replicas { get; init; } = [];

    /// <summary>Silos that did not answer, with the reason.</summary>
    [Id(1)] public string[] Unreachable { get; init; } = [];

    /// <summary>The replica that reports itself leader in the highest term, if any.</summary>
    public ReplicaStatus? Leader => Replicas.Where(r => r.Role == "Leader").OrderByDescending(r => r.Term).FirstOrDefault();
}
