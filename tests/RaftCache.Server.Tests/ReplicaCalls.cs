using RaftCache.Server.Transport;

namespace RaftCache.Server.Tests;

/// <summary>Single operations through the batch interfaces of the façade and of a silo's replica.</summary>
internal static class ReplicaCalls
{
    public static async Task<CacheReply> ReadAsync(this IRaftReplica replica, byte[] key, ReadConsistency consistency, TimeSpan timeout, int group = 0) =>
        (await replica.Execute([new CacheRequest { Operation = CacheOperation.Get, Key = key, Consistency = consistency, Group = group }], timeout))[0];

    public static async Task<CacheReply> WriteAsync(this IRaftReplica replica, CacheRequest write, TimeSpan timeout) =>
        (await replica.Execute([write], timeout))[0];

    public static async Task<CacheReply> WriteAsync(this IRaftCacheGrain facade, CacheRequest write) => (await facade.Execute([write]))[0];

    public static async Task<CacheReply> RegisterSessionAsync(this IRaftCacheGrain facade) =>
        (await facade.Execute([new CacheRequest { Operation = CacheOperation.RegisterSession }]))[0];
}
