using RaftCache.Linearizability;
using Xunit.Abstractions;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>
/// Jepsen-style checks of the cluster: many clients, seeded faults, a linearizability checker over the recorded history,
/// and every replica's state after healing. See docs/linearizability.md.
/// </summary>
[Collection(ClusterCollection.Name)]
public class LinearizabilityTests(ITestOutputHelper output)
{
    /// <summary>One case per seed; <see cref="LinearizabilitySettings"/> reads the count and first seed from the environment.</summary>
    public static TheoryData<int> Seeds => [.. LinearizabilitySettings.FromEnvironment().Seeds];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task UnderSeededFaultsTheHistoryIsLinearizableAndEveryReplicaEndsWithTheFinalValues(int seed)
    {
        await new LinearizabilityRun(seed, LinearizabilitySettings.FromEnvironment(), output).ExecuteAsync();
    }

    /// <summary>
    /// The same fault schedule against keys sharded over four Raft groups: every group fails over on its own (a killed
    /// silo held replicas, and leaders, of several), and the histories are still checked per key.
    /// </summary>
    [Fact]
    public async Task UnderSeededFaultsAClusterOfFourGroupsIsLinearizablePerKey()
    {
        var settings = LinearizabilitySettings.FromEnvironment() with { Groups = 4 };
        var layout = new ClusterLayout(Guid.Empty, 4096, settings.Groups);
        var groups = Enumerable.Range(0, settings.Keys).Select(k => layout.GroupOf(System.Text.Encoding.UTF8.GetBytes($"k{k}"))).Distinct().Count();
        Assert.True(groups >= 2, $"The workload's keys fall in {groups} group(s); the run would not exercise several.");
        await new LinearizabilityRun(settings.FirstSeed, settings, output).ExecuteAsync();
    }

    /// <summary>
    /// The checker bites: the same workload, with its Gets answered by Local reads of a partitioned follower while writes
    /// go through the leader, must be judged not linearizable. A checker or recorder that passed everything would pass
    /// the fault runs too; this is what makes their verdicts mean something.
    /// </summary>
    [Fact]
    public async Task StaleLocalReadsFromAPartitionedFollowerAreJudgedNotLinearizable()
    {
        var settings = LinearizabilitySettings.FromEnvironment();
        await using var cluster = await CacheCluster.StartAsync(3, options => options.RequestTimeout = settings.RequestTimeout);
        await cluster.WaitForStableGroupAsync(voters: 3, settings.RecoveryDeadline);
        var leader = await cluster.LeaderSiloAsync();
        var silos = cluster.Cluster.GetActiveSilos().ToList();
        var follower = silos.First(s => s != leader);
        // Only Raft messages are cut: the follower stops learning new entries, while writes still reach the leader
        // through any silo's façade.
        cluster.Faults.Isolate(follower.SiloAddress, silos.Select(s => s.SiloAddress));

        var stale = cluster.Replica(follower);
        long staleReads = 0;
        async Task<byte[]?> ReadFromPartitionedFollower(int client, byte[] key, TimeSpan timeout)
        {
            var reply = await stale.ReadAsync(key, ReadConsistency.Local, timeout);
            if (reply.Status != CacheStatusCode.Ok) throw RaftCacheException.From(reply);
            Interlocked.Increment(ref staleReads);
            return reply.Value;
        }

        var (history, result) = await RunWorkloadAndCheckAsync(cluster, settings, ReadFromPartitionedFollower);
        output.WriteLine($"{history.Operations.Count} operations, {staleReads} local reads from the partitioned follower");
        output.WriteLine(result.Explain());
        Assert.True(staleReads > 0, "No Get was served by the partitioned follower.");
        Assert.True(result.Verdict == Verdict.NotLinearizable, $"Stale reads were not detected: {result.Explain()}");
        var violation = result.Keys.First(k => k.Verdict == Verdict.NotLinearizable);
        Assert.NotEmpty(violation.Unplaced);
    }

    /// <summary>
    /// Follower reads (thesis §6.4) from a follower that lags and receives its messages reordered: a read-index answer
    /// may overtake the entries it covers, so the follower must wait until it has applied the index. It does, and the
    /// history is linearizable.
    /// </summary>
    [Fact]
    public async Task LinearizableReadsServedByALaggingFollowerAreLinearizable()
    {
        var (result, followerReads, report) = await ReadThroughALaggingFollowerAsync(canary: false);
        output.WriteLine(report);
        Assert.True(followerReads > 0, "No read was served by the follower.");
        Assert.True(result.IsLinearizable, result.Explain());
    }

    /// <summary>
    /// The canary of follower reads: the same run, with the follower answering as soon as the read index arrives
    /// instead of once it has applied it, must be judged not linearizable.
    /// </summary>
    [Fact]
    public async Task FollowerReadsThatDoNotWaitToApplyTheReadIndexAreJudgedNotLinearizable()
    {
        var (result, followerReads, report) = await ReadThroughALaggingFollowerAsync(canary: true);
        output.WriteLine(report);
        Assert.True(followerReads > 0, "No read was served by the follower.");
        Assert.True(result.Verdict == Verdict.NotLinearizable, $"Reads before applying were not detected: {result.Explain()}");
    }

    private static async Task<(CheckResult Result, long FollowerReads, string Report)> ReadThroughALaggingFollowerAsync(bool canary)
    {
        var settings = LinearizabilitySettings.FromEnvironment();
        await using var cluster = await CacheCluster.StartAsync(3, options =>
        {
            options.RequestTimeout = settings.RequestTimeout;
            options.CanaryServeReadsBeforeApplying = canary;
        });
        await cluster.WaitForStableGroupAsync(voters: 3, settings.RecoveryDeadline);
        var leader = await cluster.LeaderSiloAsync();
        var follower = cluster.Cluster.GetActiveSilos().First(s => s != leader);
        cluster.Faults.DelayTo(follower.SiloAddress, TimeSpan.FromMilliseconds(300));
        var replica = cluster.Replica(follower);
        var instruments = cluster.SiloService<RaftCacheInstruments>(follower);
        var before = instruments.FollowerReads;

        async Task<byte[]?> ReadThroughTheFollower(int client, byte[] key, TimeSpan timeout)
        {
            var reply = await replica.ReadAsync(key, ReadConsistency.Linearizable, timeout);
            return reply.Status == CacheStatusCode.Ok ? reply.Value : throw RaftCacheException.From(reply);
        }

        var (history, result) = await RunWorkloadAndCheckAsync(cluster, settings, ReadThroughTheFollower);
        var followerReads = instruments.FollowerReads - before;
        return (result, followerReads, $"{history.Operations.Count} operations, {followerReads} reads served by the lagging follower{Environment.NewLine}{result.Explain()}");
    }

    /// <summary>
    /// Runs the workload with its Gets answered by <paramref name="read"/> until 400 operations succeeded, heals the
    /// faults, and checks the recorded history.
    /// </summary>
    private static async Task<(History History, CheckResult Result)> RunWorkloadAndCheckAsync(
        CacheCluster cluster, LinearizabilitySettings settings, Func<int, byte[], TimeSpan, Task<byte[]?>> read)
    {
        var recorder = new HistoryRecorder();
        await using (var workload = new CacheWorkload(cluster, recorder, settings, seed: settings.FirstSeed, read))
        {
            workload.Start();
            await workload.WaitForOkOperationsAsync(400, settings.RecoveryDeadline);
            await workload.StopAsync();
        }

        cluster.Faults.Heal();
        var history = recorder.ToHistory();
        return (history, LinearizabilityChecker.Check(history, settings.CheckBudget));
    }
}
