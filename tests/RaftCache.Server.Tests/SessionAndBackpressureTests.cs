using System.Text;

namespace RaftCache.Server.Tests;

[Collection(ClusterCollection.Name)]
public class SessionAndBackpressureTests
{
    [Fact]
    public async Task ARetriedSessionCommandIsAppliedOnceAndAnsweredWithItsOriginalResult()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        await cluster.Cache.PutAsync("k", "v");
        var session = await cluster.Facade.RegisterSessionAsync();
        Assert.Equal(CacheStatusCode.Ok, session.Status);
        Assert.NotEqual(0, session.SessionId);

        var delete = new CacheRequest { Operation = CacheOperation.Delete, Key = Encoding.UTF8.GetBytes("k"), SessionId = session.SessionId, Sequence = 1, LowestUnansweredSequence = 1 };
        var first = await cluster.Facade.WriteAsync(delete);
        Assert.Equal(CacheStatusCode.Ok, first.Status);
        Assert.True(first.KeyExisted);

        // The same (session, sequence) again, as a client would after a timeout: the original answer, not a second delete.
        var retry = await cluster.Facade.WriteAsync(delete);
        Assert.Equal(CacheStatusCode.Ok, retry.Status);
        Assert.True(retry.KeyExisted);

        var next = await cluster.Facade.WriteAsync(delete with { Sequence = 2 });
        Assert.False(next.KeyExisted);

        var expired = await cluster.Facade.WriteAsync(delete with { SessionId = 987_654_321, Sequence = 1 });
        Assert.Equal(CacheStatusCode.SessionExpired, expired.Status);

        // A session with more unanswered commands than the replicas keep results for is overloaded, not invalid.
        var tooMany = await cluster.Facade.WriteAsync(delete with { Sequence = 5_000, LowestUnansweredSequence = 2 });
        Assert.Equal(CacheStatusCode.Overloaded, tooMany.Status);
    }

    [Fact]
    public async Task WritesBeyondThePendingLimitFailFastWithOverloaded()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options => options.MaxPendingProposals = 2);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            try
            {
                await cluster.Cache.PutAsync($"k{i}", $"v{i}");
                return (i, (Exception?)null);
            }
            catch (RaftCacheException e)
            {
                return (i, e);
            }
        }));

        Assert.Contains(outcomes, o => o.Item2 is CacheOverloadedException);
        Assert.All(outcomes, o => Assert.True(o.Item2 is null or CacheOverloadedException, o.Item2?.ToString()));
        foreach (var (i, error) in outcomes.Where(o => o.Item2 is null)) Assert.Equal($"v{i}", await cluster.Cache.GetAsync($"k{i}"));
        foreach (var (i, error) in outcomes.Where(o => o.Item2 is not null)) Assert.Null(await cluster.Cache.GetAsync($"k{i}"));
    }
}
