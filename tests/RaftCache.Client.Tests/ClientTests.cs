using System.Text;
using Orleans.Runtime.Messaging;

namespace RaftCache.Client.Tests;

public sealed class ClientTests
{
    private readonly ScriptedFacade _facade = new();

    private RaftCacheClient Client(RaftCacheClientOptions? options = null) =>
        new(new ScriptedGrainFactory(_facade), options ?? new RaftCacheClientOptions());

    [Fact]
    public async Task RecoverQuorumIsOneCallWithTheGroupAndConfirmationAndRefusesANegativeGroup()
    {
        var calls = new List<(int? Group, bool Confirm)>();
        _facade.Recover = (group, confirm) =>
        {
            lock (calls) calls.Add((group, confirm));
            return Task.FromResult(new[] { new GroupRecovery { Group = group ?? 0, Outcome = confirm ? RecoveryOutcome.Recovered : RecoveryOutcome.Planned } });
        };
        using var client = Client();

        Assert.Equal(RecoveryOutcome.Planned, Assert.Single(await client.RecoverQuorumAsync()).Outcome);
        Assert.Equal(RecoveryOutcome.Recovered, Assert.Single(await client.RecoverQuorumAsync(group: 2, confirm: true)).Outcome);
        await Assert.ThrowsAsync<CacheArgumentException>(() => client.RecoverQuorumAsync(group: -1, confirm: true));
        // A recovery changes the cluster: it is never sent twice (reads are resent through another gateway; this is not).
        Assert.Equal([(null, false), (2, true)], calls);
    }

    [Fact]
    public async Task RecoverQuorumStopsWaitingWhenTheCallerCancels()
    {
        var never = new TaskCompletionSource<GroupRecovery[]>();
        _facade.Recover = (_, _) => never.Task;
        using var client = Client();
        using var canceled = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        // The caller's token ends the wait first; nothing was resent meanwhile.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.RecoverQuorumAsync(confirm: true, cancellationToken: canceled.Token));
    }

    [Fact]
    public async Task TwoThousandConcurrentPutsOnOneClientAllSucceedWithoutOversteppingTheSessionWindow()
    {
        // Answers come back out of order and slowly, as under load: the lowest unanswered write holds the window.
        var random = new Random(7);
        _facade.BeforeWrite = async _ =>
        {
            int delay;
            lock (random) delay = random.Next(0, 3);
            await Task.Delay(delay);
            return null;
        };
        using var client = Client();

        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => client.PutAsync($"k{i}", "v")));

        Assert.Equal(2000, _facade.Writes.Count);
        Assert.InRange(_facade.MaxDistance, 0, _facade.Limits.MaxInFlightPerSession - 1);
        Assert.Equal(2000, _facade.Writes.Select(w => w.Sequence).Distinct().Count());
        Assert.Equal(1, _facade.Registrations);
    }

    [Fact]
    public async Task AWindowOfOneStillServesManyConcurrentWritesOneAtATime()
    {
        _facade.Limits = _facade.Limits with { MaxInFlightPerSession = 1 };
        _facade.BeforeWrite = async _ =>
        {
            await Task.Yield();
            return null;
        };
        using var client = Client();

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.PutAsync($"k{i}", "v")));

        Assert.Equal(0, _facade.MaxDistance);
        Assert.Equal(200, _facade.Writes.Count);
    }

    [Fact]
    public async Task WritesBeyondTheQueueBoundFailAsOverloadedAndAreNeverSent()
    {
        _facade.Limits = _facade.Limits with { MaxInFlightPerSession = 1 };
        var release = new TaskCompletionSource<CacheReply?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _facade.BeforeWrite = _ => release.Task;
        using var client = Client(new RaftCacheClientOptions { MaxQueuedWrites = 1 });

        var first = client.PutAsync("a", "1");
        await WaitUntilAsync(() => _facade.Writes.Count == 1);
        var queued = client.PutAsync("b", "2");
        await Assert.ThrowsAsync<CacheOverloadedException>(() => client.PutAsync("c", "3"));

        release.SetResult(null);
        await first;
        await queued;
        Assert.Equal(["a", "b"], _facade.Writes.Select(w => Encoding.UTF8.GetString(w.Key!)));
    }

    [Fact]
    public async Task OverLimitKeysValuesAndTtlsAreRejectedBeforeAnythingIsSent()
    {
        _facade.Limits = _facade.Limits with { MaxKeyBytes = 8, MaxValueBytes = 100, MaxTtl = TimeSpan.FromHours(1) };
        using var client = Client();

        var value = await Assert.ThrowsAsync<CacheArgumentException>(() => client.PutAsync(Encoding.UTF8.GetBytes("k"), new byte[101]));
        Assert.Contains("101 bytes", value.Message, StringComparison.Ordinal);
        Assert.Contains("limit is 100", value.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<CacheArgumentException>(() => client.PutAsync("ninebytes", "v"));
        await Assert.ThrowsAsync<CacheArgumentException>(() => client.GetAsync("ninebytes"));
        await Assert.ThrowsAsync<CacheArgumentException>(() => client.DeleteAsync("ninebytes"));
        await Assert.ThrowsAsync<CacheArgumentException>(() => client.PutAsync("k", "v", TimeSpan.FromHours(2)));

        Assert.Empty(_facade.Writes);
        Assert.Equal(0, _facade.Registrations);

        // At the limits exactly, everything goes through.
        await client.PutAsync(Encoding.UTF8.GetBytes("eightbyt"), new byte[100], TimeSpan.FromHours(1));
        Assert.Single(_facade.Writes);
        Assert.Equal(1, _facade.LimitRequests);
    }

    // Built in code: theory data strings with lone surrogates would not survive test discovery's serialization.
    [Theory]
    [InlineData("", 0xD800, "")]
    [InlineData("a", 0xDC00, "b")]
    [InlineData("end", 0xD83D, "")]
    public async Task StringKeysAndValuesWithALoneSurrogateAreRejected(string before, int surrogate, string after)
    {
        var invalid = before + (char)surrogate + after;
        using var client = Client();

        var error = await Assert.ThrowsAsync<CacheArgumentException>(() => client.PutAsync(invalid, "v"));
        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<CacheArgumentException>(() => client.GetAsync(invalid));
        await Assert.ThrowsAsync<CacheArgumentException>(() => client.DeleteAsync(invalid));
        await Assert.ThrowsAsync<CacheArgumentException>(() => client.PutAsync("k", invalid));
        Assert.Empty(_facade.Writes);
    }

    [Fact]
    public async Task ASurrogatePairIsValidAndKeepsItsOwnKey()
    {
        using var client = Client();
        await client.PutAsync("\uD83D\uDE00", "v");
        Assert.Equal(Encoding.UTF8.GetBytes("\uD83D\uDE00"), Assert.Single(_facade.Writes).Key);
    }

    [Fact]
    public async Task GetStatusAsync_WhenTheClusterIsGone_ThrowsTheTypedUnavailableError()
    {
        _facade.Status = () => throw new ConnectionFailedException("Unable to connect to endpoint S127.0.0.1:30000:0.");
        using var client = Client(new RaftCacheClientOptions { CallTimeout = TimeSpan.FromSeconds(5) });

        var error = await Assert.ThrowsAsync<CacheUnavailableException>(() => client.GetStatusAsync());
        Assert.Contains("ConnectionFailedException", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatusAsync_WhenTheClusterDoesNotAnswer_ThrowsUnavailableAtTheCallTimeout()
    {
        _facade.Status = () => new TaskCompletionSource<ClusterStatus>().Task;
        using var client = Client(new RaftCacheClientOptions { CallTimeout = TimeSpan.FromMilliseconds(200) });

        await Assert.ThrowsAsync<CacheUnavailableException>(() => client.GetStatusAsync());
    }

    [Fact]
    public async Task AnExpiredSessionIsReplacedAndTheWriteRetriedOnceInTheNewSession()
    {
        var expired = 0L;
        _facade.BeforeWrite = write => Task.FromResult(Interlocked.CompareExchange(ref expired, write.SessionId, 0) == 0
            ? CacheReply.Fail(CacheStatusCode.SessionExpired, "expired")
            : null);
        using var client = Client();

        await client.PutAsync("k", "v");

        var writes = _facade.Writes.ToArray();
        Assert.Equal(2, writes.Length);
        Assert.NotEqual(writes[0].SessionId, writes[1].SessionId);
        Assert.Equal(1, writes[1].Sequence);
        Assert.Equal(2, _facade.Registrations);
    }

    [Fact]
    public void InvalidOptionsAreRefusedWithTheSettingNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => Client(new RaftCacheClientOptions { CallTimeout = TimeSpan.Zero, MaxQueuedWrites = -1 }));
        Assert.Contains("RaftCacheClient:CallTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("RaftCacheClient:MaxQueuedWrites", error.Message, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition()) await Task.Delay(5, deadline.Token);
    }
}
