using RaftCache.Linearizability;
using Xunit.Abstractions;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>
/// The linearizability checker over a history that spans a quorum loss and its recovery: clients run throughout, both
/// followers of a three-voter group die at once, the group is unavailable, an operator recovers it, and clients go on.
/// </summary>
/// <remarks>
/// The leader is the survivor here, so it holds every entry the group committed: the loss bound of recovery (the
/// entries only the dead voters held) is empty, and the checker allows no deviation at all. Writes in flight at the
/// crash or during the outage are of unknown outcome, or failed where nothing was proposed; the ones the survivor held
/// are committed by the recovery, which the model allows for an unknown write. A loss that is not empty is checked
/// by versions in <see cref="QuorumRecoveryTests.RecoveryLosesExactlyTheAcknowledgedWritesThatOnlyTheDeadVotersHeld"/>.
/// </remarks>
public sealed class QuorumLossLinearizabilityTests(ITestOutputHelper output)
{
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
}
