using System.Text;

namespace RaftCache.Server.Tests;

[Collection(ClusterCollection.Name)]
public class BasicCacheTests
{
    [Fact]
    public async Task PutGetDeleteClearAndTtlExpiryThroughTheFacadeWithThreeSilos()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var cache = cluster.Cache;

        await cache.PutAsync("alpha", "1");
        await cache.PutAsync("beta", "2");
        Assert.Equal("1", await cache.GetAsync("alpha"));
        Assert.Equal("2", await cache.GetAsync("beta", ReadConsistency.Lease));
        Assert.True(await cache.DeleteAsync("alpha"));
        Assert.False(await cache.DeleteAsync("alpha"));
        Assert.Null(await cache.GetAsync("alpha"));
        await cache.ClearAsync();
        Assert.Null(await cache.GetAsync("beta"));

        var bytesKey = new byte[] { 0, 1, 2, 255 };
        await cache.PutAsync(bytesKey, [9, 8, 7]);
        Assert.Equal(new byte[] { 9, 8, 7 }, await cache.GetAsync(bytesKey));

        await cache.PutAsync("short-lived", "soon gone", TimeSpan.FromMilliseconds(300));
        await cache.PutAsync("long-lived", "stays", TimeSpan.FromMinutes(10));
        Assert.Equal("soon gone", await cache.GetAsync("short-lived"));
        await Eventually.WaitAsync(async () => await cache.GetAsync("short-lived") is null, TimeSpan.FromSeconds(10), "the 300 ms entry to expire");
        Assert.Equal("stays", await cache.GetAsync("long-lived"));

        // Expiry also reaches the replicated state: a time-only entry advances log time without writes.
        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(10));
        Assert.Single(status.Replicas.Select(r => r.StateDigest).Distinct());

        // The client's status call gathers every replica through the façade.
        var viaClient = await cache.GetStatusAsync();
        Assert.Equal(3, viaClient.Replicas.Length);
        Assert.Empty(viaClient.Unreachable);
        Assert.Equal(status.Leader!.MemberId, viaClient.Leader!.MemberId);
        Assert.All(viaClient.Replicas, r => Assert.True(r.Healthy, r.Message));
    }

    [Fact]
    public async Task BadInputGetsTheTypedArgumentErrorAndChangesNothing()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var cache = cluster.Cache;
        await cache.PutAsync("kept", "value");
        var before = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.PutAsync("", "x"));
        Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentNullException>(() => cache.PutAsync(null!, "x"))).ParamName);
        Assert.Equal("value", (await Assert.ThrowsAsync<ArgumentNullException>(() => cache.PutAsync("k", null!))).ParamName);
        await Assert.ThrowsAsync<ArgumentNullException>(() => cache.PutAsync([1], null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => cache.GetAsync((byte[])null!));
        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.PutAsync("k", "x", TimeSpan.FromSeconds(-1)));
        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.PutAsync(Encoding.UTF8.GetBytes("k"), new byte[600 * 1024]));
        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.PutAsync("lone\uD800surrogate", "x"));
        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.PutAsync(new string('k', 2000), "x"));
        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.GetAsync(Array.Empty<byte>()));
        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.DeleteAsync(""));

        // The façade validates too, for callers that bypass the typed client.
        var reply = await cluster.Facade.WriteAsync(new CacheRequest { Operation = CacheOperation.Put, Key = [1], Value = [1], Ttl = TimeSpan.FromSeconds(-5) });
        Assert.Equal(CacheStatusCode.InvalidArgument, reply.Status);
        reply = await cluster.Facade.WriteAsync(new CacheRequest { Operation = CacheOperation.Put, Key = [], Value = [1] });
        Assert.Equal(CacheStatusCode.InvalidArgument, reply.Status);
        reply = await cluster.Facade.WriteAsync(new CacheRequest { Operation = CacheOperation.Put, Key = [1], Value = null });
        Assert.Equal(CacheStatusCode.InvalidArgument, reply.Status);
        reply = await cluster.Facade.WriteAsync(new CacheRequest { Operation = CacheOperation.Put, Key = [1], Value = new byte[513 * 1024] });
        Assert.Equal(CacheStatusCode.InvalidArgument, reply.Status);
        Assert.Contains("limit", reply.Message, StringComparison.Ordinal);

        var after = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(before.Replicas.Select(r => r.StateDigest).Distinct().Single(), after.Replicas.Select(r => r.StateDigest).Distinct().Single());
        Assert.Equal("value", await cache.GetAsync("kept"));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public class ClusterCollection
{
    public const string Name = "Orleans clusters (serial)";
}
