namespace RaftCache.Server.Tests;

[Collection(ClusterCollection.Name)]
public class BasicCacheTests
{
    [Fact]
    public async Task PutGetDeleteClearThroughTheFacadeWithThreeSilos()
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
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public class ClusterCollection
{
    public const string Name = "Orleans clusters (serial)";
}
