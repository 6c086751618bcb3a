using Xunit.Abstractions;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>
/// What a seed set must have exercised, per seed on average, for its passing to mean something. Set at about half
/// of what the default seeds reach, so a change that quietly stops a fault from happening fails the test.
/// </summary>
internal sealed record CoverageFloor(
    double LeadersElected, double EntriesCommitted, double SnapshotsInstalled, double SeedsWithSnapshotInstall,
    double Restarts, double Partitions, double ReadsAnswered, double Transfers, double ReadsServedByLease);

/// <summary>What a membership seed set must have exercised, per seed on average (thesis §4.3).</summary>
internal sealed record MembershipFloor(
    double ConfChangesApplied, double JointsEnteredAutoLeave, double JointsEnteredExplicit, double JointsLeftExplicit,
    double NodesAdded, double LearnersPromoted, double VotersDemoted, double NodesRemoved, double LeaderRemovals,
    double RestartsWhileJoint);

internal static class SimulationAssert
{
    public static void KeepsSafety(SimulationScenario scenario, int defaultSeeds, CoverageFloor floor, ITestOutputHelper output, MembershipFloor? membership = null)
    {
        var report = SimulationSeeds.Run(scenario, defaultSeeds, output);

        Assert.True(report.Failures.Count == 0, report.DescribeFailures());
        if (report.IsSingleSeed) return;
        var seeds = (double)report.Outcomes.Count;
        var totals = report.Totals;
        AtLeast("leaders elected", totals.LeadersElected, floor.LeadersElected * seeds);
        AtLeast("entries committed", totals.EntriesCommitted, floor.EntriesCommitted * seeds);
        AtLeast("snapshots installed", totals.SnapshotsInstalled, floor.SnapshotsInstalled * seeds);
        AtLeast("seeds with a snapshot installed", totals.SeedsWithSnapshotInstall, floor.SeedsWithSnapshotInstall * seeds);
        AtLeast("restarts", totals.Restarts, floor.Restarts * seeds);
        AtLeast("partitions", totals.Partitions, floor.Partitions * seeds);
        AtLeast("reads answered", totals.ReadsAnswered, floor.ReadsAnswered * seeds);
        AtLeast("leadership transfers", totals.Transfers, floor.Transfers * seeds);
        if (scenario.ReadMode == ReadMode.LeaseBased) AtLeast("reads served by the lease", totals.ReadsServedByLease, floor.ReadsServedByLease * seeds);
        if (membership is null) return;
        AtLeast("conf changes applied", totals.ConfChangesApplied, membership.ConfChangesApplied * seeds);
        AtLeast("joint configurations entered with auto-leave", totals.JointsEnteredAutoLeave, membership.JointsEnteredAutoLeave * seeds);
        AtLeast("joint configurations entered with explicit leave", totals.JointsEnteredExplicit, membership.JointsEnteredExplicit * seeds);
        AtLeast("joint configurations left explicitly", totals.JointsLeftExplicit, membership.JointsLeftExplicit * seeds);
        AtLeast("nodes added", totals.NodesAdded, membership.NodesAdded * seeds);
        AtLeast("learners promoted", totals.LearnersPromoted, membership.LearnersPromoted * seeds);
        AtLeast("voters demoted", totals.VotersDemoted, membership.VotersDemoted * seeds);
        AtLeast("nodes removed", totals.NodesRemoved, membership.NodesRemoved * seeds);
        AtLeast("leader removals", totals.LeaderRemovals, membership.LeaderRemovals * seeds);
        AtLeast("restarts while joint", totals.RestartsWhileJoint, membership.RestartsWhileJoint * seeds);
    }

    private static void AtLeast(string what, long actual, double minimum) =>
        Assert.True(actual >= minimum, $"the seed set exercised too few {what}: {actual}, expected at least {minimum:F0}");
}

/// <summary>Three voters under loss, duplication, delay, reordering, partitions and crash-restart.</summary>
public sealed class ThreeNodeSimulationTests(ITestOutputHelper output)
{
    private const int Seeds = 500;

    // About half of what the default seeds reach per seed: 4.6 leaders, 380 entries, 4.5 snapshot installs (in 90%
    // of seeds), 3.8 restarts, 5.2 partitions, 110 reads answered (43 from the lease in the lease scenario), 1.6 transfers.
    private static readonly CoverageFloor Floor = new(
        LeadersElected: 2, EntriesCommitted: 150, SnapshotsInstalled: 2, SeedsWithSnapshotInstall: 0.45,
        Restarts: 1.8, Partitions: 2.5, ReadsAnswered: 50, Transfers: 0.7, ReadsServedByLease: 20);

    [Fact]
    public void ThreeNodeClusterKeepsSafetyUnderFaultsWithSafeReads() =>
        SimulationAssert.KeepsSafety(SimulationScenarios.ThreeNodesSafeReads, Seeds, Floor, output);

    [Fact]
    public void ThreeNodeClusterKeepsSafetyUnderFaultsWithLeaseReads() =>
        SimulationAssert.KeepsSafety(SimulationScenarios.ThreeNodesLeaseReads, Seeds, Floor, output);
}

/// <summary>Five voters under the same faults; up to two down at once, so quorums overlap in fewer nodes.</summary>
public sealed class FiveNodeSimulationTests(ITestOutputHelper output)
{
    private const int Seeds = 300;

    // About half of what the default seeds reach per seed: 4.6 leaders, 395 entries, 7.6 snapshot installs (in 95%
    // of seeds), 4.6 restarts, 5.2 partitions, 113 reads answered (27 from the lease in the lease scenario), 2 transfers.
    private static readonly CoverageFloor Floor = new(
        LeadersElected: 2, EntriesCommitted: 150, SnapshotsInstalled: 3.5, SeedsWithSnapshotInstall: 0.45,
        Restarts: 2, Partitions: 2.5, ReadsAnswered: 50, Transfers: 0.9, ReadsServedByLease: 12);

    [Fact]
    public void FiveNodeClusterKeepsSafetyUnderFaultsWithSafeReads() =>
        SimulationAssert.KeepsSafety(SimulationScenarios.FiveNodesSafeReads, Seeds, Floor, output);

    [Fact]
    public void FiveNodeClusterKeepsSafetyUnderFaultsWithLeaseReads() =>
        SimulationAssert.KeepsSafety(SimulationScenarios.FiveNodesLeaseReads, Seeds, Floor, output);
}

/// <summary>
/// Random membership changes (thesis §4.3) under the same faults: learners added and promoted, voters demoted,
/// removed (the leader included) and replaced through joint configurations left automatically or explicitly.
/// Election safety holds per term across every configuration the run passes through.
/// </summary>
public sealed class MembershipSimulationTests(ITestOutputHelper output)
{
    private const int Seeds = 150;

    // About half of what the default seeds reach per seed (the lower of the two scenarios): 8.4 leaders, 330 entries,
    // 12 snapshot installs (in every seed), 7.7 restarts, 5.3 partitions, 86 reads answered (20 from the lease in the
    // lease scenario), 1.6 transfers.
    private static readonly CoverageFloor Floor = new(
        LeadersElected: 4, EntriesCommitted: 160, SnapshotsInstalled: 5, SeedsWithSnapshotInstall: 0.5,
        Restarts: 3.5, Partitions: 2.5, ReadsAnswered: 40, Transfers: 0.7, ReadsServedByLease: 9);

    // Likewise: 22 conf changes applied, 3.8 joint configurations entered with auto-leave and 1.8 with explicit
    // leave (1.8 left explicitly), 7.4 nodes added, 4.5 learners promoted, 2.3 voters demoted, 7.3 nodes removed,
    // 4.6 leader removals, 0.3 member restarts while joint.
    private static readonly MembershipFloor Membership = new(
        ConfChangesApplied: 10, JointsEnteredAutoLeave: 1.8, JointsEnteredExplicit: 0.9, JointsLeftExplicit: 0.85,
        NodesAdded: 3.6, LearnersPromoted: 2.2, VotersDemoted: 1.1, NodesRemoved: 3.6, LeaderRemovals: 2.2, RestartsWhileJoint: 0.15);

    [Fact]
    public void ThreeToFiveNodeClusterKeepsSafetyUnderMembershipChangesAndFaults() =>
        SimulationAssert.KeepsSafety(SimulationScenarios.ThreeToFiveWithMembership, Seeds, Floor, output, Membership);

    [Fact]
    public void FiveNodeClusterKeepsSafetyUnderMembershipChangesAndFaultsWithLeaseReads() =>
        SimulationAssert.KeepsSafety(SimulationScenarios.FiveWithMembership, Seeds, Floor, output, Membership);
}

/// <summary>
/// The checks bite: storage that loses the hard state on restart must make seeds of the default set fail. Each test
/// prints how many seeds caught it and how.
/// </summary>
public sealed class SimulationCanaryTests(ITestOutputHelper output)
{
    private const int Seeds = 100;

    [Fact]
    public void ForgettingTermAndVoteOnRestartIsCaughtByTheClusterChecks()
    {
        var report = SimulationSeeds.Run(SimulationScenarios.ForgetsTermAndVote, Seeds, output);

        var caught = Describe(report);
        Assert.True(caught > 0, $"no seed caught the forgotten term and vote\n{report.DescribeFailures()}");
    }

    [Fact]
    public void RestartingWithAnEmptyHardStateIsReported()
    {
        // With the commit index gone too, the core itself refuses most restarts (the state machine's restart point
        // lies beyond the commit index it recovers); that failure counts, as do the cluster-wide checks.
        var report = SimulationSeeds.Run(SimulationScenarios.ForgetsWholeHardState, Seeds, output);

        Describe(report);
        Assert.True(report.Failures.Count > 0, "no seed noticed the lost hard state");
    }

    [Fact]
    public void ForgettingTermAndVoteOnRestartBreaksThePersistedHardStateCheck()
    {
        var report = SimulationSeeds.Run(SimulationScenarios.ForgetsTermAndVoteCheckedPerNode, Seeds, output, stopWhen: o => o.IsInvariantViolation);

        var caught = report.Failures.FirstOrDefault(o => o.IsInvariantViolation);
        Assert.True(caught is not null, $"no seed caught the forgotten hard state\n{report.DescribeFailures()}");
        Assert.True(caught.Failure!.StartsWith("persistent term", StringComparison.Ordinal) || caught.Failure!.StartsWith("one vote per term", StringComparison.Ordinal), caught.Failure);
        output.WriteLine($"caught by seed {caught.Seed}: {caught.Failure}");
    }

    [Fact]
    public void ADriverThatDoesNotApplyConfChangesIsCaught()
    {
        // Node 2 applies conf change entries to its state machine but never tells its RawNode: it keeps electing
        // and counting votes in a configuration the log has left behind.
        var report = SimulationSeeds.Run(SimulationScenarios.ForgetsConfChanges, 20, output);

        var caught = report.Failures.Count(o => o.IsInvariantViolation && o.Failure!.StartsWith("configuration", StringComparison.Ordinal));
        Describe(report);
        Assert.True(caught > 0, $"no seed caught the node that never applies conf changes\n{report.DescribeFailures()}");
    }

    private int Describe(SeedSetReport report)
    {
        var caught = report.Failures.Where(o => o.IsInvariantViolation).ToList();
        output.WriteLine($"{caught.Count} seeds failed an invariant of the simulation, {report.Failures.Count - caught.Count} made the core throw");
        foreach (var group in caught.GroupBy(o => o.Failure![..o.Failure!.IndexOf(':', StringComparison.Ordinal)]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {group.Key}: seeds {string.Join(", ", group.Select(o => o.Seed))}");
        }

        foreach (var outcome in report.Failures.Where(o => !o.IsInvariantViolation).Take(3))
        {
            output.WriteLine($"  e.g. seed {outcome.Seed}: {outcome.Failure![..outcome.Failure!.IndexOf('\n', StringComparison.Ordinal)]}");
        }

        return caught.Count;
    }
}

/// <summary>Replay is exact: a seed's run is a function of the seed alone.</summary>
public sealed class SimulationReplayTests
{
    [Fact]
    public void ASeedReplaysStepForStep()
    {
        var first = new SimulationRun(SimulationScenarios.FiveNodesLeaseReads, 7).Execute();
        var second = new SimulationRun(SimulationScenarios.FiveNodesLeaseReads, 7).Execute();
        var other = new SimulationRun(SimulationScenarios.FiveNodesLeaseReads, 8).Execute();

        Assert.True(first.Passed, first.Failure);
        Assert.Equal(first.Fingerprint, second.Fingerprint);
        Assert.Equal(first.Counters.ToString(), second.Counters.ToString());
        Assert.NotEqual(first.Fingerprint, other.Fingerprint);
        Assert.True(first.Counters.MessagesDelivered > 1_000, $"seed 7 delivered only {first.Counters.MessagesDelivered} messages");
    }
}
