namespace RaftCache;

/// <summary>
/// Where a façade activation runs, and the leaders its silo knows: what a client needs to send each call through the
/// gateway of the silo that serves it (<see cref="IRaftCacheGrain.Locate"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("RaftCache.FacadeLocation")]
public sealed record FacadeLocation
{
    /// <summary>The silo the façade runs on (for a client's call, the gateway's silo), as a parsable silo address.</summary>
    [Id(0)] public string Silo { get; init; } = "";

    /// <summary>By group, the silo of the group's leader as this silo knows it (parsable silo address), or null if none is known.</summary>
    [Id(1)] public string?[] Leaders { get; init; } = [];
}
