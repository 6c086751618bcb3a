using System.Text;

namespace RaftCache.Server.Tests;

/// <summary>The typed client against a real cluster: one shared client under load, and input the cluster refuses.</summary>
[Collection(ClusterCollection.Name)]
public class ClientTests
{
    [Fact]
    public async Task OneSharedClientServesTwoThousandConcurrentPutsWithoutOverloadingItsSession()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var cache = cluster.Cache;

        // More concurrent writes than the replicas keep session results for (1,024): the excess waits in the client.
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => cache.PutAsync($"k{i}", $"v{i}")));

        foreach (var i in new[] { 0, 1023, 1024, 1999 }) Assert.Equal($"v{i}", await cache.GetAsync($"k{i}"));
        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(30));
        Assert.All(status.Replicas, r => Assert.Equal(2000, r.EntryCount));
    }

    [Fact]
    public async Task AnOversizedMessageFromAMisbehavingCallerIsRefusedByTheSiloWithoutReadingIt()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));

        // The typed client refuses it before sending.
        await Assert.ThrowsAsync<CacheArgumentException>(() => cluster.Cache.PutAsync(Encoding.UTF8.GetBytes("big"), new byte[20 * 1024 * 1024]));

        // A caller that bypasses it gets its connection closed: the silo reads only the frame's length (4 MiB limit).
        var bypass = cluster.Facade.WriteAsync(new CacheRequest { Operation = CacheOperation.Put, Key = [1], Value = new byte[20 * 1024 * 1024] });
        // (The caller learns it only at its response timeout: Orleans does not fail requests of a closed connection.)
        var error = await Assert.ThrowsAnyAsync<Exception>(() => bypass);
        Assert.True(error is TimeoutException or OrleansException, error.ToString());

        // Nothing was stored, and the cluster keeps serving well-behaved calls.
        await Eventually.WaitAsync(async () =>
        {
            await cluster.Cache.PutAsync("after", "ok");
            return await cluster.Cache.GetAsync("after") == "ok";
        }, TimeSpan.FromSeconds(60), "the client to reconnect and write");
        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(30));
        Assert.All(status.Replicas, r => Assert.Equal(1, r.EntryCount));
    }
}
