namespace RaftCache.Bench;

/// <summary>
/// A grain that does nothing: the cost of one client-to-silo call with no cache work behind it. The <c>bench</c>
/// command measures it next to each cache operation so that cache throughput reads as a fraction of that ceiling.
/// </summary>
[Alias("RaftCache.IRaftCacheNoOpGrain")]
public interface IRaftCacheNoOpGrain : IGrainWithIntegerKey
{
    /// <summary>Returns at once.</summary>
    [Alias("Ping")]
    Task Ping();
}
