using System.Text;

namespace RaftCache.Client.Tests;

/// <summary>How the typed client coalesces concurrent operations into batch calls.</summary>
public sealed class BatchingTests
{
    private readonly ScriptedFacade _facade = new();

    private RaftCacheClient Client(RaftCacheClientOptions? options = null) =>
        new(new ScriptedGrainFactory(_facade), options ?? new RaftCacheClientOptions());

    [Fact]
    public async Task AnOperationOnAnIdleClientLeavesAtOnceInACallOfItsOwn()
    {
        using var client = Client();
        await client.PutAsync("k", "v");
        await client.GetAsync("k");

        // The session registration, the put and the get: one call each, nothing waited to be batched.
        Assert.Equal([1, 1, 1], _facade.Batches);
        Assert.Equal((3L, 3L), client.BatchStatistics);
    }

    [Fact]
    public async Task OperationsIssuedWhileTheCallLimitIsReachedShareTheNextCall()
    {
        var release = new TaskCompletionSource<CacheReply?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _facade.BeforeWrite = write => Encoding.UTF8.GetString(write.Key!) == "first" ? release.Task : Task.FromResult<CacheReply?>(null);
        using var client = Client(new RaftCacheClientOptions { MaxCallsInFlight = 1 });
        await client.PutAsync("warm", "session");

        var first = client.PutAsync("first", "v");
        await Wait.UntilAsync(() => _facade.Writes.Count == 2);
        var others = Enumerable.Range(0, 100).Select(i => client.PutAsync($"k{i}", "v")).ToList();
        Assert.Equal(3, _facade.Batches.Count);

        release.SetResult(null);
        await first;
        await Task.WhenAll(others);
        Assert.Equal([1, 1, 1, 100], _facade.Batches);
    }

    [Fact]
    public async Task ABatchStaysWithinItsCommandAndByteBounds()
    {
        var release = new TaskCompletionSource<CacheReply?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _facade.BeforeWrite = write => Encoding.UTF8.GetString(write.Key!) == "first" ? release.Task : Task.FromResult<CacheReply?>(null);
        using var client = Client(new RaftCacheClientOptions { MaxCallsInFlight = 1, MaxBatchCommands = 10, MaxBatchBytes = 100 });
        await client.PutAsync("warm", "session");

        var first = client.PutAsync("first", "v");
        await Wait.UntilAsync(() => _facade.Writes.Count == 2);
        // 25 small puts (3-byte key + 1-byte value) are bounded by the command count; 5 larger ones (40 + 2 + 1 bytes) by bytes.
        var small = Enumerable.Range(0, 25).Select(i => client.PutAsync($"s{i:D2}", "v")).ToList();
        var large = Enumerable.Range(0, 5).Select(i => client.PutAsync($"l{i}", new string('x', 40))).ToList();
        release.SetResult(null);
        await Task.WhenAll([first, .. small, .. large]);

        var batches = _facade.Batches.Skip(2).ToList();
        Assert.Equal(31, batches.Sum());
        Assert.All(batches, size => Assert.InRange(size, 1, 10));
        Assert.Equal([1, 10, 10, 6, 2, 2], batches);
    }

    [Fact]
    public async Task EachOperationInABatchKeepsItsOwnOutcome()
    {
        var release = new TaskCompletionSource<CacheReply?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _facade.BeforeWrite = write => Encoding.UTF8.GetString(write.Key!) switch
        {
            "first" => release.Task,
            "refused" => Task.FromResult<CacheReply?>(CacheReply.Fail(CacheStatusCode.InvalidArgument, "refused by the cluster")),
            "unknown" => Task.FromResult<CacheReply?>(CacheReply.Fail(CacheStatusCode.OutcomeUnknown, "the leader failed")),
            _ => Task.FromResult<CacheReply?>(null),
        };
        _facade.Read = read => Task.FromResult(new CacheReply { Value = read.Key });
        using var client = Client(new RaftCacheClientOptions { MaxCallsInFlight = 1 });
        await client.PutAsync("warm", "session");

        var first = client.PutAsync("first", "v");
        await Wait.UntilAsync(() => _facade.Writes.Count == 2);
        var ok = client.PutAsync("fine", "v");
        var refused = client.PutAsync("refused", "v");
        var unknown = client.DeleteAsync("unknown");
        var read = client.GetAsync("echo");
        release.SetResult(null);

        await first;
        await ok;
        await Assert.ThrowsAsync<CacheArgumentException>(() => refused);
        await Assert.ThrowsAsync<CacheOutcomeUnknownException>(() => unknown);
        Assert.Equal("echo", await read);
        Assert.Equal(4, _facade.Batches.Last());
    }

    [Fact]
    public async Task AFailedBatchCallFailsEachOperationWithWhatIsKnownOfIt()
    {
        _facade.BeforeWrite = write => Encoding.UTF8.GetString(write.Key!) == "k" ? throw new TimeoutException("no answer") : Task.FromResult<CacheReply?>(null);
        using var client = Client(new RaftCacheClientOptions { CallTimeout = TimeSpan.FromSeconds(5) });
        await client.PutAsync("warm", "session");
        _facade.Read = _ => throw new TimeoutException("no answer");

        await Assert.ThrowsAsync<CacheOutcomeUnknownException>(() => client.PutAsync("k", "v"));
        await Assert.ThrowsAsync<CacheUnavailableException>(() => client.GetAsync("k"));
    }


    [Fact]
    public async Task AnOperationStuckInACallPastItsAttemptTimeoutIsSentAgainAndAnsweredOnce()
    {
        var calls = 0;
        _facade.Read = read => Interlocked.Increment(ref calls) == 1
            ? new TaskCompletionSource<CacheReply>().Task // the first call never answers, as on a frozen silo
            : Task.FromResult(new CacheReply { Value = read.Key });
        using var client = Client(new RaftCacheClientOptions { MaxCallsInFlight = 1, AttemptTimeout = TimeSpan.FromMilliseconds(200), CallTimeout = TimeSpan.FromSeconds(30) });

        var read = client.GetAsync("k");
        Assert.Equal("k", await read.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task ACallPastItsAttemptTimeoutNoLongerHoldsBackLaterOperationsAndItsSessionWritesAreResent()
    {
        // The first delivery of "stuck" never answers, as a call to a frozen silo; a second delivery is answered.
        var stuck = new TaskCompletionSource<CacheReply?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var deliveries = 0;
        _facade.BeforeWrite = write => Encoding.UTF8.GetString(write.Key!) == "stuck" && Interlocked.Increment(ref deliveries) == 1
            ? stuck.Task
            : Task.FromResult<CacheReply?>(null);
        using var client = Client(new RaftCacheClientOptions { MaxCallsInFlight = 1, AttemptTimeout = TimeSpan.FromMilliseconds(200), CallTimeout = TimeSpan.FromSeconds(30) });
        await client.PutAsync("warm", "session");

        var first = client.PutAsync("stuck", "v");
        await Wait.UntilAsync(() => _facade.Writes.Count >= 2);
        // With the only call slot taken by a call that does not answer, this put still goes through, and the stuck put
        // (in a client session, so safe to deliver twice) is answered by its second delivery.
        await client.PutAsync("later", "v").WaitAsync(TimeSpan.FromSeconds(20));
        await first.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(2, deliveries);
        var stuckWrites = _facade.Writes.Where(w => Encoding.UTF8.GetString(w.Key!) == "stuck").ToList();
        Assert.Equal(stuckWrites[0].Sequence, stuckWrites[1].Sequence);
        stuck.SetResult(null);
    }
}
