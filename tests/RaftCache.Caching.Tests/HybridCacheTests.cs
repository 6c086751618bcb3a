using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace RaftCache.Caching.Tests;

/// <summary>
/// Two application instances, each with its own Orleans client, RaftCache client and HybridCache (its own in-memory
/// L1), sharing RaftCache as HybridCache's L2.
/// </summary>
public sealed class HybridCacheTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>, IAsyncLifetime
{
    // Probes read L1 and L2 like any call, but store nothing, so that asking does not change what the other instance sees.
    private static readonly HybridCacheEntryOptions Probe = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite,
    };

    private IHost? _a;
    private IHost? _b;

    private HybridCache A => _a!.Services.GetRequiredService<HybridCache>();

    private HybridCache B => _b!.Services.GetRequiredService<HybridCache>();

    public async Task InitializeAsync()
    {
        _a = await fixture.StartApplicationAsync(Configure);
        _b = await fixture.StartApplicationAsync(Configure);

        static void Configure(IServiceCollection services)
        {
            services.AddHybridCache();
            services.AddRaftCacheDistributedCache();
        }
    }

    [Fact]
    public async Task AValueOneInstanceComputedIsServedToTheOtherWithoutItsFactory()
    {
        var key = NewKey();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(5) };
        var computedByB = 0;

        Assert.Equal("from A", await A.GetOrCreateAsync(key, _ => ValueTask.FromResult("from A"), options));
        // HybridCache writes L2 after it has returned the value to its caller.
        await WhenStoredAsync(key);
        Assert.Equal("from A", await B.GetOrCreateAsync(key, _ =>
        {
            computedByB++;
            return ValueTask.FromResult("from B");
        }, options));
        Assert.Equal(0, computedByB);
    }

    [Fact]
    public async Task AfterTheExpirationBothInstancesComputeAgain()
    {
        var key = NewKey();
        var expiration = TimeSpan.FromSeconds(4);
        var before = DateTimeOffset.UtcNow;
        var options = new HybridCacheEntryOptions { Expiration = expiration };
        await A.GetOrCreateAsync(key, _ => ValueTask.FromResult("first"), options);
        await WhenStoredAsync(key);
        Assert.Equal("first", await B.GetOrCreateAsync(key, _ => ValueTask.FromResult("unused"), options));

        // RaftCache drops the entry at its expiration (L2)...
        var gone = await WhenGoneAsync(key);
        Assert.True(gone >= before + expiration - TimeSpan.FromMilliseconds(50), $"gone {gone - before} after the first call began");

        // ...and neither instance still serves it from L1, whose copy lives no longer than the entry.
        Assert.Equal("A again", await A.GetOrCreateAsync(key, _ => ValueTask.FromResult("A again"), Probe));
        Assert.Equal("B again", await B.GetOrCreateAsync(key, _ => ValueTask.FromResult("B again"), Probe));

        // A new value one of them computes is shared again.
        var longer = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(5) };
        Assert.Equal("second", await A.GetOrCreateAsync(key, _ => ValueTask.FromResult("second"), longer));
        await WhenStoredAsync(key);
        Assert.Equal("second", await B.GetOrCreateAsync(key, _ => ValueTask.FromResult("unused"), longer));
    }

    [Fact]
    public async Task RemoveClearsRaftCacheAndItsOwnL1WhileTheOtherInstanceKeepsItsL1CopyUntilItsLocalExpiration()
    {
        var key = NewKey();
        var local = TimeSpan.FromSeconds(5);
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(5), LocalCacheExpiration = local };
        await A.GetOrCreateAsync(key, _ => ValueTask.FromResult("original"), options);
        await WhenStoredAsync(key);
        var bCopied = Stopwatch.StartNew();
        Assert.Equal("original", await B.GetOrCreateAsync(key, _ => ValueTask.FromResult("unused"), options));

        await A.RemoveAsync(key);

        // Gone from RaftCache and from A's L1: A computes.
        Assert.Null(await fixture.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key)));
        Assert.Equal("A computed", await A.GetOrCreateAsync(key, _ => ValueTask.FromResult("A computed"), Probe));

        // B is not told (HybridCache has no invalidation between instances): it serves its L1 copy...
        var stale = await B.GetOrCreateAsync(key, _ => ValueTask.FromResult("B computed"), Probe);
        Assert.True(bCopied.Elapsed < local, "Too slow to see B's L1 copy before its local expiration.");
        Assert.Equal("original", stale);

        // ...until its local expiration, then finds L2 empty and computes.
        await Eventually.WaitAsync(async () => await B.GetOrCreateAsync(key, _ => ValueTask.FromResult("B computed"), Probe) == "B computed",
            TimeSpan.FromSeconds(30), "B's L1 copy to expire");
        Assert.True(bCopied.Elapsed >= local - TimeSpan.FromMilliseconds(50), $"B computed {bCopied.Elapsed} after it copied the value, before its local expiration");
    }

    public async Task DisposeAsync()
    {
        foreach (var host in new[] { _a, _b })
        {
            if (host is null) continue;
            await host.StopAsync();
            host.Dispose();
        }
    }

    private static string NewKey() => "hc-" + Guid.NewGuid().ToString("N");

    private Task WhenStoredAsync(string key) => Eventually.WaitAsync(async () => await fixture.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key)) is not null,
        TimeSpan.FromSeconds(30), $"{key} to be written to RaftCache");

    private async Task<DateTimeOffset> WhenGoneAsync(string key)
    {
        var gone = DateTimeOffset.MinValue;
        await Eventually.WaitAsync(async () =>
        {
            if (await fixture.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key)) is not null) return false;
            gone = DateTimeOffset.UtcNow;
            return true;
        }, TimeSpan.FromSeconds(30), $"{key} to expire");
        return gone;
    }
}
