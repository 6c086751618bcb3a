using System.Text;
using RaftCache.Client;
using RaftCache.Linearizability;
using Xunit.Abstractions;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>
/// The linearizability checker over histories that span a quorum loss and its recovery, with the loss bound of
/// recovery (the entries only the dead voters held) as the only deviation allowed.
/// </summary>
public sealed class QuorumLossLinearizabilityTests(ITestOutputHelper output)
{
    /// <summary>
    /// Clients run throughout; both followers of a three-voter group die at once, the group is unavailable, an operator
    /// recovers it, and clients go on. The leader is the survivor, so it holds every entry the group committed: the loss
    /// bound is empty, and the checker allows no deviation at all over the whole history. Writes in flight at the crash or
    /// during the outage end unknown, or failed where nothing was proposed; the ones the survivor held are committed by
    /// the recovery, which the model allows for an unknown write.
    /// </summary>
    [Fact]
    public async Task AHistoryAcrossQuorumLossAndRecoveryIsLinearizable()
    {
        var settings = LinearizabilitySettings.FromEnvironment();
        var deadline = settings.RecoveryDeadline;
        var recorder = new HistoryRecorder();
        GroupRecovery recovered;
        CacheWorkload workload;
        await using (var cluster = await CacheCluster.StartAsync(3, options => options.RequestTimeout = settings.RequestTimeout))
        {
            await cluster.WaitForStableGroupAsync(voters: 3, deadline, learners: 0);
            workload = new CacheWorkload(cluster, recorder, settings, seed: settings.FirstSeed);
            await using (workload)
            {
                workload.Start();
                await workload.WaitForOkOperationsAsync(200, deadline);
                var leader = await cluster.LeaderSiloAsync();
                var followers = cluster.Cluster.GetActiveSilos().Where(s => !s.Equals(leader)).ToList();
                await QuorumRecoveryTests.KillAtOnceAsync(cluster, leader, followers);
                var failedBefore = workload.Count(OperationOutcome.Failed);
                var okAtLoss = workload.OkOperations;
                await QuorumRecoveryTests.WaitForOutcomeAsync(cluster.Cache, RecoveryOutcome.Planned);
                recovered = Assert.Single(await cluster.Cache.RecoverQuorumAsync(confirm: true));
                Assert.True(recovered.Outcome == RecoveryOutcome.Recovered, recovered.Message);
                Assert.Equal(0UL, recovered.EntriesBehindKnownCommit);
                cluster.Faults.Heal();
                output.WriteLine($"recovered: {recovered.Message}");
                output.WriteLine($"during the outage: {workload.Count(OperationOutcome.Failed) - failedBefore} operations failed; ok at the loss: {okAtLoss}");
                await workload.WaitForOkOperationsAsync(okAtLoss + 200, deadline);
                await workload.StopAsync();
            }

            await workload.ReadFinalValuesAsync(client: settings.Clients);
        }

        var history = recorder.ToHistory();
        var result = LinearizabilityChecker.Check(history, settings.CheckBudget);
        output.WriteLine($"check: {result.Verdict} in {result.Elapsed.TotalMilliseconds:F0} ms over {history.Operations.Count} operations; outcomes: {workload.DescribeCounters()}");
        Assert.True(result.IsLinearizable, result.Explain());
        // The outage is part of the history: operations failed or ended unknown while the group had no quorum.
        Assert.Contains(history.Operations, op => op.Outcome != OperationOutcome.Ok);
    }

    /// <summary>
    /// The survivor is a follower cut off from the leader while clients write, so recovery loses the writes that only
    /// the dead leader and follower held. The check: the history before the loss is linearizable; at the recovery each
    /// key's state is the one it had at the kept index, which is the last state clients saw if that state's version
    /// (its write's log index) is within the kept log, and otherwise an older state the key really had; and the
    /// history after the recovery is linearizable starting from those states.
    /// </summary>
    [Fact]
    public async Task AHistoryAcrossARecoveryThatLosesWritesDeviatesOnlyByTheLossBound()
    {
        var settings = LinearizabilitySettings.FromEnvironment() with { CounterKeys = 0 };
        var deadline = settings.RecoveryDeadline;
        var before = new HistoryRecorder();
        var after = new HistoryRecorder();
        await using var cluster = await CacheCluster.StartAsync(3, options => options.RequestTimeout = settings.RequestTimeout);
        await cluster.WaitForStableGroupAsync(voters: 3, deadline, learners: 0);
        Dictionary<string, CacheEntry?> lastSeen;
        await using (var first = new CacheWorkload(cluster, before, settings, seed: settings.FirstSeed, valuePrefix: "a"))
        {
            first.Start();
            await first.WaitForOkOperationsAsync(150, deadline);
            var leaderSilo = (await cluster.StatusAsync()).Leader!.Silo;
            var survivor = cluster.Cluster.GetActiveSilos().First(s => s.SiloAddress.ToString() != leaderSilo);
            cluster.Faults.Isolate(survivor.SiloAddress, cluster.Cluster.GetActiveSilos().Select(s => s.SiloAddress));
            var okAtCut = first.OkOperations;
            await first.WaitForOkOperationsAsync(okAtCut + 150, deadline);
            await first.StopAsync();
            lastSeen = await ReadEntriesAsync(cluster, before, first.Keys, settings);
            await QuorumRecoveryTests.KillAtOnceAsync(cluster, survivor, cluster.Cluster.GetActiveSilos().Where(s => !s.Equals(survivor)));
        }

        cluster.Faults.Heal();
        var recovered = await QuorumRecoveryTests.WaitForOutcomeAsync(cluster.Cache, RecoveryOutcome.Recovered, confirm: true);
        output.WriteLine($"recovered: {recovered.Message}");
        var history = before.ToHistory();
        var written = history.Operations.Where(op => op.Value is not null).Select(op => Encoding.UTF8.GetString(op.Value!)).ToHashSet(StringComparer.Ordinal);

        // At the recovery point: each key's state is its state at the kept index.
        var atRecovery = await ReadEntriesAsync(cluster, recorder: null, lastSeen.Keys, settings);
        var lost = 0;
        foreach (var (key, seen) in lastSeen)
        {
            var now = atRecovery[key];
            if (now is not null)
            {
                Assert.True((ulong)now.Version <= recovered.KeptIndex, $"{key} is at version {now.Version}, past the kept index {recovered.KeptIndex}");
                Assert.True(written.Contains(Encoding.UTF8.GetString(now.Value)), $"{key} holds a value no client wrote");
            }

            if (seen is not null && (ulong)seen.Version <= recovered.KeptIndex)
            {
                Assert.True(now is not null && now.Version == seen.Version, $"{key}: the state clients last saw (version {seen.Version}) is within the kept log but was lost");
            }
            else if (seen is not null)
            {
                lost++;
                Assert.True(now is null || now.Version < seen.Version, $"{key}: a state newer than the kept index survived");
            }
        }

        output.WriteLine($"keys whose last state was lost with the dead voters: {lost} of {lastSeen.Count}");
        Assert.True(lost > 0, "The survivor was cut off while clients wrote, yet no key lost its last state: the scenario did not exercise the loss bound.");
        var beforeResult = LinearizabilityChecker.Check(history, settings.CheckBudget);
        Assert.True(beforeResult.IsLinearizable, "before the loss: " + beforeResult.Explain());

        // After: the states at the recovery point are the initial state, written before any client starts.
        foreach (var (key, entry) in atRecovery)
        {
            if (entry is null) continue;
            var initial = after.Invoke(settings.Clients + 1, OperationKind.Put, key, entry.Value);
            after.Complete(initial, OperationOutcome.Ok);
        }

        await using (var second = new CacheWorkload(cluster, after, settings, seed: settings.FirstSeed + 1, valuePrefix: "b"))
        {
            second.Start();
            await second.WaitForOkOperationsAsync(150, deadline);
            await second.StopAsync();
            await second.ReadFinalValuesAsync(client: settings.Clients);
        }

        var afterResult = LinearizabilityChecker.Check(after.ToHistory(), settings.CheckBudget);
        output.WriteLine($"before: {beforeResult.Verdict} over {history.Operations.Count} operations; after: {afterResult.Verdict} over {after.ToHistory().Operations.Count}");
        Assert.True(afterResult.IsLinearizable, "after the recovery: " + afterResult.Explain());
    }

    /// <summary>Reads every key with its version, linearizably; recorded as Gets when <paramref name="recorder"/> is given.</summary>
    private static async Task<Dictionary<string, CacheEntry?>> ReadEntriesAsync(CacheCluster cluster, HistoryRecorder? recorder, IEnumerable<string> keys, LinearizabilitySettings settings)
    {
        using var client = new RaftCacheClient(cluster.Cluster.Client);
        var entries = new Dictionary<string, CacheEntry?>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var op = recorder?.Invoke(settings.Clients, OperationKind.Get, key);
            var entry = await client.GetEntryAsync(Encoding.UTF8.GetBytes(key)).WaitAsync(settings.OperationDeadline);
            if (op is not null) recorder!.Complete(op, OperationOutcome.Ok, OperationResult.Read(entry?.Value));
            entries[key] = entry;
        }

        return entries;
    }
}
