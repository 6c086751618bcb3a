namespace RaftCache.Caching;

/// <summary>Settings of <see cref="RaftCacheDistributedCache"/>.</summary>
public sealed class RaftCacheDistributedCacheOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "RaftCacheDistributedCache";

    /// <summary>
    /// The consistency of <c>Get</c>: <see cref="ReadConsistency.Linearizable"/> (the default) sees every write
    /// acknowledged before the read began; <see cref="ReadConsistency.Lease"/> and <see cref="ReadConsistency.Local"/> are
    /// cheaper (see <see cref="ReadConsistency"/>).
    /// </summary>
    public ReadConsistency ReadConsistency { get; set; } = ReadConsistency.Linearizable;

    /// <summary>
    /// A prefix put before every key (like Redis' <c>InstanceName</c>), so that applications sharing a cluster keep
    /// apart; none if null or empty. The stored key is the UTF-8 encoding of the prefix followed by the key.
    /// </summary>
    public string? InstanceName { get; set; }
}
