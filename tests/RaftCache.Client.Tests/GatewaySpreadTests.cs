using System.Text;

namespace RaftCache.Client.Tests;

/// <summary>
/// How a client spreads its calls over the cluster's gateways (<see cref="FacadeSelector"/>) and what it does when one
/// stops answering: three scripted silos A, B and C, façade key k bound to the gateway of silo k mod 3, any of which
/// can be frozen (its calls then wait until it thaws, as calls to a SIGSTOPped process do).
/// </summary>
public sealed class GatewaySpreadTests : IDisposable
{
    private static readonly TimeSpan Attempt = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    private readonly ScriptedFacade _cluster = new();
    private readonly ScriptedSilo[] _silos;
    private string _leader = "B";

    public GatewaySpreadTests()
    {
        _silos = [new("A", _cluster, () => _leader), new("B", _cluster, () => _leader), new("C", _cluster, () => _leader)];
    }

    private ScriptedSilo A => _silos[0];

    private ScriptedGrainFactory Gateways => new(key => _silos[key % _silos.Length]);

    private RaftCacheClientOptions Options => new() { AttemptTimeout = Attempt, CallTimeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        // Calls left waiting on a frozen silo end with the test.
        foreach (var silo in _silos) silo.Thaw();
    }

    private static async Task<FacadeSelector> LocatedAsync(FacadeSelector selector)
    {
        selector.Choose(null);
        await Wait.UntilAsync(() => Enumerable.Range(0, FacadeSelector.Keys).All(k => selector.SiloOf(k) is not null));
        return selector;
    }

    [Fact]
    public async Task EachKeyIsLocatedAtItsGatewaysSilo()
    {
        using var selector = await LocatedAsync(new FacadeSelector(Gateways, Options));

        for (var key = 0; key < FacadeSelector.Keys; key++) Assert.Equal(_silos[key % 3].Name, selector.SiloOf(key));
    }

    [Fact]
    public async Task CallsForALeaderGoThroughTheLeadersGatewayAndOtherCallsThroughEveryGatewayInTurn()
    {
        using var selector = await LocatedAsync(new FacadeSelector(Gateways, Options));

        for (var i = 0; i < 20; i++) Assert.Equal("B", selector.SiloOf(selector.Choose(group: 0)));
        var reads = Enumerable.Range(0, 6).Select(_ => selector.SiloOf(selector.Choose(group: null))).ToList();
        Assert.Equal(["A", "B", "C"], reads.Distinct().Order());
        // A group the client knows no leader of: any gateway.
        Assert.NotNull(selector.SiloOf(selector.Choose(group: 7)));
    }

    [Fact]
    public async Task AKeyThatWentUnansweredIsAvoidedWithEveryKeyOfItsSiloUntilItAnswersAgain()
    {
        using var selector = await LocatedAsync(new FacadeSelector(Gateways, Options));
        _leader = "A";
        // Learn that A leads: the refresh asks one key a second, so ask them all.
        await Wait.UntilAsync(() => selector.SiloOf(selector.Choose(group: 0)) == "A");

        A.Freeze();
        var located = A.Locates;
        selector.Unanswered(0);
        Assert.All(Enumerable.Range(0, FacadeSelector.Keys).Where(k => k % 3 == 0), k => Assert.True(selector.IsSuspect(k)));
        for (var i = 0; i < 20; i++)
        {
            Assert.NotEqual("A", selector.SiloOf(selector.Choose(group: 0)));
            Assert.NotEqual("A", selector.SiloOf(selector.Choose(group: null)));
        }

        // Its probes go unanswered while it is frozen, and are sent again, until it thaws.
        await Wait.UntilAsync(() => A.Locates >= located + 2 * ((FacadeSelector.Keys + 2) / 3));
        Assert.True(selector.IsSuspect(0));
        A.Thaw();
        await Wait.UntilAsync(() => !Enumerable.Range(0, FacadeSelector.Keys).Any(selector.IsSuspect));
        Assert.Equal("A", selector.SiloOf(selector.Choose(group: 0)));
    }

    [Fact]
    public async Task WithEveryKeySuspectCallsStillGoThroughTheKeysInTurn()
    {
        using var selector = await LocatedAsync(new FacadeSelector(Gateways, Options));
        foreach (var silo in _silos) silo.Freeze();
        selector.Unanswered(0);
        selector.Unanswered(1);
        selector.Unanswered(2);

        var keys = Enumerable.Range(0, 6).Select(_ => selector.Choose(group: null)).ToList();
        Assert.Equal(6, keys.Distinct().Count());
    }

    [Fact]
    public async Task AReadStuckOnAFrozenGatewayIsAnsweredThroughAnotherWithinAboutTheAttemptTimeout()
    {
        A.Freeze();
        _cluster.Read = read => Task.FromResult(new CacheReply { Value = read.Key });
        using var client = new RaftCacheClient(Gateways, Options);

        for (var i = 0; i < 6; i++)
        {
            var started = DateTime.UtcNow;
            Assert.Equal($"k{i}", await client.GetAsync($"k{i}").WaitAsync(Generous));
            // Nothing waits for the thaw: an attempt stuck on A is given up after the attempt timeout.
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), $"read {i} took {DateTime.UtcNow - started}");
        }

        // Once A is suspect, no further batch call goes its way.
        Assert.InRange(A.Executes, 0, 1);
    }

    [Fact]
    public async Task ASessionWriteStuckOnTheFrozenLeaderIsResentThroughAnotherGatewayWithItsSequenceNumber()
    {
        _leader = "A";
        using var client = new RaftCacheClient(Gateways, Options);
        await client.PutAsync("warm", "session");
        A.Freeze();
        var before = A.Executes;

        // A put goes to the leader's gateway once the client located it, else to the next gateway in turn: until A
        // is suspect, puts go its way and are resent after the attempt timeout.
        for (var i = 0; i < 4; i++) await client.PutAsync($"k{i}", "v").WaitAsync(Generous);
        var stuck = A.Executes - before;
        A.Thaw();

        // Every delivery of one put, a resend or the thawed first one, carries the same session and sequence number,
        // so the replicas apply it once (the scripted cluster records each delivery).
        await Wait.UntilAsync(() => A.Executes == A.Answered);
        var deliveries = _cluster.Writes.Where(w => Encoding.UTF8.GetString(w.Key!).StartsWith('k')).GroupBy(w => Encoding.UTF8.GetString(w.Key!)).ToList();
        Assert.Equal(4, deliveries.Count);
        Assert.All(deliveries, d => Assert.Single(d.Select(w => (w.SessionId, w.Sequence)).Distinct()));
        Assert.True(stuck >= 1, "no put went to the frozen leader's gateway");
    }

    [Fact]
    public async Task ALateUnknownAnswerOfAnAttemptPastItsTimeoutDoesNotEndAWriteWhoseResendIsUnderWay()
    {
        // The first delivery is answered "unknown" after a while, as by a façade whose own deadline passed while it
        // waited on a frozen leader; later deliveries are answered only after that, as by the new leader.
        var deliveries = 0;
        var firstAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _cluster.BeforeWrite = async write =>
        {
            if (Encoding.UTF8.GetString(write.Key!) != "k") return null;
            if (Interlocked.Increment(ref deliveries) == 1)
            {
                await Task.Delay(3 * Attempt);
                firstAnswered.SetResult();
                return CacheReply.Fail(CacheStatusCode.OutcomeUnknown, "no answer from the leader within the request timeout");
            }

            await firstAnswered.Task;
            await Task.Delay(Attempt / 2);
            return null;
        };
        using var client = new RaftCacheClient(new ScriptedGrainFactory(_cluster), Options);
        await client.PutAsync("warm", "session");

        await client.PutAsync("k", "v").WaitAsync(Generous);
        Assert.True(deliveries >= 2);
    }

    [Fact]
    public async Task WhenEveryAttemptAnswersUnavailableLateTheWriteEndsUnavailableAfterABoundedNumberOfAttempts()
    {
        // No quorum: each façade answers "unavailable" at its own request timeout, later than the attempt timeout.
        var deliveries = 0;
        _cluster.BeforeWrite = async write =>
        {
            if (Encoding.UTF8.GetString(write.Key!) != "k") return null;
            Interlocked.Increment(ref deliveries);
            await Task.Delay(3 * Attempt);
            return CacheReply.Fail(CacheStatusCode.Unavailable, "no leader with a quorum answered within the request timeout");
        };
        using var client = new RaftCacheClient(new ScriptedGrainFactory(_cluster), Options);
        await client.PutAsync("warm", "session");

        // The answer of the last attempt counts: the caller learns that nothing was applied, well before its deadline.
        await Assert.ThrowsAsync<CacheUnavailableException>(() => client.PutAsync("k", "v").WaitAsync(Generous));
        Assert.Equal(CommandBatcher.MaxAttempts, Volatile.Read(ref deliveries));
    }

    [Fact]
    public async Task AWriteCanceledWhileItsAttemptIsStuckOnAFrozenGatewayHasAnUnknownOutcome()
    {
        using var client = new RaftCacheClient(new ScriptedGrainFactory(A), new RaftCacheClientOptions { AttemptTimeout = TimeSpan.FromSeconds(20), CallTimeout = TimeSpan.FromSeconds(30) });
        await client.PutAsync("warm", "session");
        A.Freeze();
        var before = A.Executes;
        using var cancel = new CancellationTokenSource();
        var put = client.PutAsync("k", "v", cancellationToken: cancel.Token);
        await Wait.UntilAsync(() => A.Executes == before + 1);

        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<CacheOutcomeUnknownException>(() => put);
        Assert.IsAssignableFrom<OperationCanceledException>(error.InnerException);
    }

    [Fact]
    public async Task AWriteOutsideASessionStuckPastTheAttemptTimeoutEndsAsUnknownAndIsNotSentAgain()
    {
        A.Freeze();
        var options = new RaftCacheClientOptions { AttemptTimeout = Attempt, CallTimeout = TimeSpan.FromSeconds(30) };
        using var facades = new FacadeSelector(new ScriptedGrainFactory(A), options);
        using var batcher = new CommandBatcher((facade, requests, timeout) => facade.Execute(requests).WaitAsync(timeout), facades, options);
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(30 * System.Diagnostics.Stopwatch.Frequency);

        var started = DateTime.UtcNow;
        var reply = await batcher.Enqueue(new CacheRequest { Operation = CacheOperation.Put, Key = [1], Value = [2] }, deadline).WaitAsync(Generous);

        Assert.Equal(CacheStatusCode.OutcomeUnknown, reply.Status);
        Assert.Contains("attempt timeout", reply.Message, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), $"ended after {DateTime.UtcNow - started}, not at the attempt timeout");
        Assert.Equal(1, A.Executes);
    }

    [Fact]
    public async Task StatusIsAnsweredThroughAnotherGatewayWhenTheFirstIsFrozen()
    {
        A.Freeze();
        _cluster.Status = () => Task.FromResult(new ClusterStatus { Unreachable = ["none"] });
        using var client = new RaftCacheClient(Gateways, Options);

        for (var i = 0; i < 3; i++) Assert.Equal(["none"], (await client.GetStatusAsync().WaitAsync(Generous)).Unreachable);
    }

    [Fact]
    public void TheAttemptTimeoutMustBePositiveAndShorterThanTheCallTimeout()
    {
        Assert.Contains(new RaftCacheClientOptions { AttemptTimeout = TimeSpan.Zero }.Validate(), e => e.Contains("RaftCacheClient:AttemptTimeout must be positive", StringComparison.Ordinal));
        Assert.Contains(new RaftCacheClientOptions { AttemptTimeout = TimeSpan.FromSeconds(10) }.Validate(), e => e.Contains("RaftCacheClient:AttemptTimeout must be shorter than CallTimeout", StringComparison.Ordinal));
        Assert.Empty(new RaftCacheClientOptions().Validate());
        Assert.Equal(RaftCacheClientOptions.DefaultAttemptTimeout, new RaftCacheClientOptions().AttemptTimeout);
        // Unset, it follows a short call timeout, so that every call timeout alone is valid.
        var quick = new RaftCacheClientOptions { CallTimeout = TimeSpan.FromMilliseconds(500) };
        Assert.Equal(TimeSpan.FromMilliseconds(250), quick.AttemptTimeout);
        Assert.Empty(quick.Validate());
    }
}

/// <summary>
/// One silo's gateway as a client sees it: calls through it reach the scripted cluster, except while the silo is
/// frozen, when they wait until it thaws.
/// </summary>
internal sealed class ScriptedSilo(string name, ScriptedFacade cluster, Func<string?> leader) : IRaftCacheGrain
{
    private TaskCompletionSource _thawed = Thawed();
    private int _executes;
    private int _answered;
    private int _locates;

    public string Name => name;

    /// <summary>Batch calls that went through this gateway.</summary>
    public int Executes => Volatile.Read(ref _executes);

    /// <summary>Batch calls through this gateway that were answered.</summary>
    public int Answered => Volatile.Read(ref _answered);

    /// <summary>Locate calls that went through this gateway.</summary>
    public int Locates => Volatile.Read(ref _locates);

    public void Freeze() => Volatile.Write(ref _thawed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Thaw() => Volatile.Read(ref _thawed).TrySetResult();

    public async Task<CacheReply[]> Execute(CacheRequest[] requests)
    {
        Interlocked.Increment(ref _executes);
        var replies = await Through(() => cluster.Execute(requests));
        Interlocked.Increment(ref _answered);
        return replies;
    }

    public Task<CacheLimits> GetLimits() => Through(cluster.GetLimits);

    public Task<ClusterStatus> GetStatus() => Through(cluster.GetStatus);

    public Task<GroupRecovery[]> RecoverQuorum(int? group, bool confirm) => Through(() => cluster.RecoverQuorum(group, confirm));

    public Task<FacadeLocation> Locate()
    {
        Interlocked.Increment(ref _locates);
        return Through(() => Task.FromResult(new FacadeLocation { Silo = name, Leaders = [leader()] }));
    }

    private async Task<T> Through<T>(Func<Task<T>> call)
    {
        await Volatile.Read(ref _thawed).Task;
        return await call();
    }

    private static TaskCompletionSource Thawed()
    {
        var thawed = new TaskCompletionSource();
        thawed.SetResult();
        return thawed;
    }
}
