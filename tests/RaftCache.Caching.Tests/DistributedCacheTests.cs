using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RaftCache.Client;

namespace RaftCache.Caching.Tests;

/// <summary>
/// <see cref="IDistributedCache"/> as an application sees it, on a real cluster. Expiry is observed through the typed
/// client's <see cref="IRaftCacheClient.GetEntryAsync"/>, which does not refresh, and each bound in time is one the test
/// measured: a deadline is never earlier than the clock read before the write that set it.
/// </summary>
public sealed class DistributedCacheTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly byte[] Value = [1, 2, 3];

    // Reads and deadlines use the clocks of silos in this process; a deadline is stored in whole milliseconds.
    private static readonly TimeSpan ClockTolerance = TimeSpan.FromMilliseconds(50);

    private IDistributedCache Cache => fixture.Services.GetRequiredService<IDistributedCache>();

    [Fact]
    public async Task SetGetAndRemove()
    {
        var key = NewKey();
        Assert.IsType<RaftCacheDistributedCache>(Cache);
        Assert.Null(await Cache.GetAsync(key));
        await Cache.RemoveAsync(key); // a missing key is not an error

        await Cache.SetAsync(key, Value, new DistributedCacheEntryOptions());
        Assert.Equal(Value, await Cache.GetAsync(key));
        var stored = await StoredAsync(key);
        Assert.NotNull(stored);
        Assert.Null(stored.TimeToLive); // no options, no expiry
        Assert.Null(stored.SlidingExpiration);

        await Cache.RemoveAsync(key);
        Assert.Null(await Cache.GetAsync(key));
        Assert.Null(await StoredAsync(key));
    }

    [Fact]
    public async Task AnOverwriteReplacesTheValueAndItsExpiry()
    {
        var key = NewKey();
        await Cache.SetStringAsync(key, "first", new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });
        await Cache.SetStringAsync(key, "second");

        Assert.Equal("second", await Cache.GetStringAsync(key));
        var stored = await StoredAsync(key);
        Assert.NotNull(stored);
        Assert.Null(stored.TimeToLive);
        Assert.Null(stored.SlidingExpiration);
    }

    [Fact]
    public async Task AnAbsoluteExpirationEndsTheEntryAtThatTime()
    {
        var key = NewKey();
        var expires = DateTimeOffset.UtcNow.AddSeconds(3);
        await Cache.SetAsync(key, Value, new DistributedCacheEntryOptions { AbsoluteExpiration = expires });

        var readStarted = DateTimeOffset.UtcNow;
        var value = await Cache.GetAsync(key);
        Assert.True(readStarted < expires, "The write and read took longer than the entry's life; the machine is too slow for this test.");
        Assert.Equal(Value, value);

        var gone = await WhenGoneAsync(key);
        Assert.True(gone >= expires - ClockTolerance, $"gone at {gone:O}, before its expiration {expires:O}");
    }

    [Fact]
    public async Task ARelativeExpirationEndsTheEntryThatLongAfterTheWrite()
    {
        var key = NewKey();
        var before = DateTimeOffset.UtcNow;
        await Cache.SetAsync(key, Value, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(3) });

        var stored = await StoredAsync(key);
        Assert.NotNull(stored);
        Assert.InRange(stored.TimeToLive!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(3));
        Assert.Null(stored.SlidingExpiration);

        var gone = await WhenGoneAsync(key);
        Assert.True(gone >= before + TimeSpan.FromSeconds(3) - ClockTolerance, $"gone {gone - before} after the write began");
    }

    [Fact]
    public async Task ARelativeExpirationWinsOverAnAbsoluteOneAsInMicrosoftsCaches()
    {
        var key = NewKey();
        await Cache.SetAsync(key, Value, new DistributedCacheEntryOptions
        {
            AbsoluteExpiration = DateTimeOffset.UtcNow.AddMinutes(30),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1),
        });

        var stored = await StoredAsync(key);
        Assert.NotNull(stored);
        Assert.InRange(stored.TimeToLive!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task ReadsKeepAnEntryWithASlidingExpirationAliveAndItExpiresOnceTheyStop()
    {
        var key = NewKey();
        var window = TimeSpan.FromSeconds(3);
        await Cache.SetAsync(key, Value, new DistributedCacheEntryOptions { SlidingExpiration = window });
        Assert.Equal(window, (await StoredAsync(key))?.SlidingExpiration);

        // Reads every half second for more than two windows: each one restarts the window.
        var lastRead = DateTimeOffset.UtcNow;
        var reading = Stopwatch.StartNew();
        while (reading.Elapsed < 2 * window + TimeSpan.FromSeconds(1))
        {
            lastRead = DateTimeOffset.UtcNow;
            Assert.Equal(Value, await Cache.GetAsync(key));
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        var gone = await WhenGoneAsync(key);
        Assert.True(gone >= lastRead + window - ClockTolerance, $"gone {gone - lastRead} after the last read began");
    }

    [Fact]
    public async Task RefreshKeepsAnEntryWithASlidingExpirationAlive()
    {
        var key = NewKey();
        var window = TimeSpan.FromSeconds(3);
        await Cache.SetAsync(key, Value, new DistributedCacheEntryOptions { SlidingExpiration = window });

        var lastRefresh = DateTimeOffset.UtcNow;
        var refreshing = Stopwatch.StartNew();
        while (refreshing.Elapsed < 2 * window + TimeSpan.FromSeconds(1))
        {
            lastRefresh = DateTimeOffset.UtcNow;
            await Cache.RefreshAsync(key);
            Assert.NotNull(await StoredAsync(key));
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        var gone = await WhenGoneAsync(key);
        Assert.True(gone >= lastRefresh + window - ClockTolerance, $"gone {gone - lastRefresh} after the last refresh began");
    }

    [Fact]
    public async Task AnAbsoluteBoundEndsAnEntryThatIsStillBeingRefreshed()
    {
        var key = NewKey();
        var window = TimeSpan.FromSeconds(3);
        var bound = TimeSpan.FromSeconds(5);
        var before = DateTimeOffset.UtcNow;
        await Cache.SetAsync(key, Value, new DistributedCacheEntryOptions { SlidingExpiration = window, AbsoluteExpirationRelativeToNow = bound });
        var written = DateTimeOffset.UtcNow;

        var outlivedItsFirstWindow = false;
        DateTimeOffset? gone = null;
        var refreshing = Stopwatch.StartNew();
        while (gone is null && refreshing.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Cache.RefreshAsync(key);
            var readStarted = DateTimeOffset.UtcNow;
            if (await StoredAsync(key) is null) gone = DateTimeOffset.UtcNow;
            else if (readStarted > written + window + ClockTolerance) outlivedItsFirstWindow = true;
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        Assert.True(outlivedItsFirstWindow, "the refreshes did not extend the entry past its first window");
        Assert.NotNull(gone);
        Assert.True(gone >= before + bound - ClockTolerance, $"gone {gone - before} after the write began");
    }

    [Fact]
    public async Task AnAbsoluteExpirationInThePastIsRefusedAndNothingIsWritten()
    {
        var key = NewKey();
        var past = DateTimeOffset.UtcNow.AddSeconds(-1);
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            Cache.SetAsync(key, Value, new DistributedCacheEntryOptions { AbsoluteExpiration = past }));
        Assert.Equal(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), error.ParamName);
        Assert.StartsWith("The absolute expiration value must be in the future.", error.Message, StringComparison.Ordinal);

        // Also when a relative expiration would override it.
        Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Set(key, Value,
            new DistributedCacheEntryOptions { AbsoluteExpiration = past, AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) }));
        Assert.Null(await StoredAsync(key));
    }

    [Fact]
    public async Task ACanceledTokenStopsEveryOperationBeforeItIsSent()
    {
        var key = NewKey();
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.SetAsync(key, Value, new DistributedCacheEntryOptions(), canceled.Token));
        Assert.Null(await StoredAsync(key));

        var window = TimeSpan.FromMinutes(5);
        await Cache.SetAsync(key, Value, new DistributedCacheEntryOptions { SlidingExpiration = window });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.GetAsync(key, canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.RefreshAsync(key, canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.RemoveAsync(key, canceled.Token));
        Assert.Equal(Value, (await StoredAsync(key))?.Value);
    }

    [Fact]
    public async Task InstanceNamesKeepApplicationsApart()
    {
        var key = NewKey();
        var shop = Create("shop:");
        var blog = Create("blog:");

        await shop.SetStringAsync(key, "shop's");
        await blog.SetStringAsync(key, "blog's");
        Assert.Equal("shop's", await shop.GetStringAsync(key));
        Assert.Equal("blog's", await blog.GetStringAsync(key));
        Assert.Null(await Cache.GetAsync(key));
        // The stored key is the prefix and the key, in UTF-8.
        Assert.Equal("shop's"u8.ToArray(), (await fixture.Cache.GetEntryAsync(Encoding.UTF8.GetBytes("shop:" + key)))?.Value);

        await blog.RemoveAsync(key);
        Assert.Null(await blog.GetAsync(key));
        Assert.Equal("shop's", await shop.GetStringAsync(key));

        IDistributedCache Create(string instanceName)
        {
            var services = new ServiceCollection();
            services.AddSingleton(fixture.Cache);
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
            services.AddRaftCacheDistributedCache(options => options.InstanceName = instanceName);
            return services.BuildServiceProvider().GetRequiredService<IDistributedCache>();
        }
    }

    [Fact]
    public async Task TheSynchronousMethodsWork()
    {
        var key = NewKey();
        var window = TimeSpan.FromMinutes(5);
        Cache.Set(key, Value, new DistributedCacheEntryOptions { SlidingExpiration = window });
        Assert.Equal(Value, Cache.Get(key));
        Cache.Refresh(key);
        Assert.Equal(window, (await StoredAsync(key))?.SlidingExpiration);
        Cache.Remove(key);
        Assert.Null(Cache.Get(key));
        Cache.Remove(key);
        Cache.Refresh(key); // a missing key: nothing to do
    }

    [Fact]
    public async Task NullArgumentsAreRefused()
    {
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => Cache.Get(null!)).ParamName);
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.GetAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync(null!, Value, new DistributedCacheEntryOptions()));
        Assert.Equal("value", (await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync("k", null!, new DistributedCacheEntryOptions()))).ParamName);
        Assert.Equal("options", (await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync("k", Value, null!))).ParamName);
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.RefreshAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.RemoveAsync(null!));
    }

    [Fact]
    public void RegistrationBindsTheConfigurationSectionAndRequiresTheClient()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RaftCacheDistributedCache:InstanceName"] = "from-configuration:",
            ["RaftCacheDistributedCache:ReadConsistency"] = "Lease",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddDistributedMemoryCache();
        services.AddRaftCacheDistributedCache(options => options.InstanceName = "from-code:");
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<RaftCacheDistributedCacheOptions>>().Value;
        Assert.Equal(ReadConsistency.Lease, options.ReadConsistency);
        Assert.Equal("from-code:", options.InstanceName);
        // It replaced the memory cache, and without AddRaftCacheClient it says what is missing.
        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IDistributedCache>());
        Assert.Contains("AddRaftCacheClient", error.Message, StringComparison.Ordinal);

        services.AddSingleton(fixture.Cache);
        using var withClient = services.BuildServiceProvider();
        Assert.IsType<RaftCacheDistributedCache>(withClient.GetRequiredService<IDistributedCache>());
    }

    [Fact]
    public void AnUnknownReadConsistencyIsRefused()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton(fixture.Cache);
        services.AddRaftCacheDistributedCache(options => options.ReadConsistency = (ReadConsistency)42);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IDistributedCache>());
        Assert.Contains("RaftCacheDistributedCache:ReadConsistency", error.Message, StringComparison.Ordinal);
    }

    private static string NewKey() => "dc-" + Guid.NewGuid().ToString("N");

    /// <summary>The stored entry, read without refreshing it.</summary>
    private Task<CacheEntry?> StoredAsync(string key) => fixture.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key));

    /// <summary>When the entry was first seen gone (the end of that read), polling without refreshing it.</summary>
    private async Task<DateTimeOffset> WhenGoneAsync(string key)
    {
        var gone = DateTimeOffset.MinValue;
        await Eventually.WaitAsync(async () =>
        {
            if (await StoredAsync(key) is not null) return false;
            gone = DateTimeOffset.UtcNow;
            return true;
        }, TimeSpan.FromSeconds(30), $"{key} to expire");
        return gone;
    }
}
