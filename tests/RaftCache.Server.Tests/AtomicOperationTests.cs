using System.Collections.Concurrent;
using System.Text;
using RaftCache.Client;

namespace RaftCache.Server.Tests;

/// <summary>The atomic single-key operations and sliding expiration end to end, on a three-silo cluster.</summary>
[Collection(ClusterCollection.Name)]
public class AtomicOperationTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task ConditionalWritesIncrementsAndGetOrAddAreAtomicAndReportVersions()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var cache = cluster.Cache;

        // Put-if-absent: one winner, the loser sees the value unchanged.
        Assert.True(await cache.TryAddAsync("lock", "owner-1"));
        Assert.False(await cache.TryAddAsync("lock", "owner-2"));
        Assert.Equal("owner-1", await cache.GetAsync("lock"));

        // Compare-and-set on the version a read returned; a stale version fails and reports the current one.
        var version = await cache.SetAsync(B("doc"), B("v1"));
        var entry = await cache.GetEntryAsync(B("doc"));
        Assert.Equal(version, entry!.Version);
        Assert.Null(entry.TimeToLive);
        var swapped = await cache.CompareAndSetAsync(B("doc"), B("v2"), entry.Version);
        Assert.True(swapped.Succeeded);
        Assert.True(swapped.Version > entry.Version);
        var stale = await cache.CompareAndSetAsync(B("doc"), B("v3"), entry.Version);
        Assert.Equal(new CompareAndSetResult(false, swapped.Version), stale);
        Assert.Equal("v2", await cache.GetAsync("doc"));
        Assert.False((await cache.CompareAndSetAsync(B("missing"), B("x"), 5)).Succeeded);
        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.CompareAndSetAsync(B("doc"), B("x"), -1));

        // Concurrent increments: each applied once, each caller sees a distinct result.
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => cache.IncrementAsync("hits")));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), results.Order());
        Assert.Equal("40", await cache.GetAsync("hits"));
        Assert.Equal(30, await cache.IncrementAsync("hits", -10));
        var notNumber = await Assert.ThrowsAsync<CacheValueException>(() => cache.IncrementAsync("doc"));
        Assert.Equal(CacheStatusCode.NotAnInteger, notNumber.Status);
        await cache.PutAsync("big", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(CacheStatusCode.Overflow, (await Assert.ThrowsAsync<CacheValueException>(() => cache.IncrementAsync("big"))).Status);

        // Get-or-add: concurrent callers all return the one stored value, whichever factory ran.
        var factoryRuns = new ConcurrentBag<int>();
        var values = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => cache.GetOrAddAsync("config", _ =>
        {
            factoryRuns.Add(i);
            return ValueTask.FromResult($"made-by-{i}");
        })));
        Assert.Single(values.Distinct());
        Assert.Equal(values[0], await cache.GetAsync("config"));
        Assert.Contains(values[0], factoryRuns.Select(i => $"made-by-{i}"));

        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(20));
        Assert.Single(status.Replicas.Select(r => r.StateDigest).Distinct());
    }

    [Fact]
    public async Task SlidingExpirationIsExtendedByRefreshUntilItsAbsoluteBound()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var cache = cluster.Cache;
        var sliding = TimeSpan.FromSeconds(4);
        var cap = TimeSpan.FromSeconds(9);
        var started = DateTimeOffset.UtcNow;
        await cache.SetAsync(B("session"), B("data"), new RaftCacheEntryOptions { SlidingExpiration = sliding, TimeToLive = cap });
        var entry = await cache.GetEntryAsync(B("session"));
        Assert.Equal(sliding, entry!.SlidingExpiration);
        Assert.InRange(entry.TimeToLive!.Value, TimeSpan.Zero, sliding);

        // Refreshed every half second, it outlives its window several times over...
        while (DateTimeOffset.UtcNow - started < cap - TimeSpan.FromSeconds(2))
        {
            Assert.True(await cache.RefreshAsync(B("session")));
            Assert.NotNull(await cache.GetAsync(B("session")));
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        // ...but not its absolute bound, however often it is refreshed.
        await Eventually.WaitAsync(async () =>
        {
            await cache.RefreshAsync(B("session"));
            return await cache.GetAsync(B("session")) is null;
        }, TimeSpan.FromSeconds(30), "the sliding entry to expire at its absolute bound");
        Assert.True(DateTimeOffset.UtcNow - started >= cap - TimeSpan.FromMilliseconds(100));

        // Without refreshes it expires after one window.
        await cache.SetAsync(B("idle"), B("data"), new RaftCacheEntryOptions { SlidingExpiration = TimeSpan.FromMilliseconds(500) });
        await Eventually.WaitAsync(async () => await cache.GetAsync(B("idle")) is null, TimeSpan.FromSeconds(30), "the idle sliding entry to expire");
        Assert.False(await cache.RefreshAsync(B("idle")));

        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.SetAsync(B("k"), B("v"), new RaftCacheEntryOptions { SlidingExpiration = TimeSpan.Zero }));
        await Assert.ThrowsAsync<CacheArgumentException>(() => cache.SetAsync(B("k"), B("v"), new RaftCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddMinutes(-1) }));
    }
}
