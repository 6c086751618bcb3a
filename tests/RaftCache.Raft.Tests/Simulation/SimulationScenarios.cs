namespace RaftCache.Raft.Tests.Simulation;

/// <summary>The scenarios of the simulation tests, each named after the test that runs it (for the replay hint).</summary>
internal static class SimulationScenarios
{
    public static SimulationScenario ThreeNodesSafeReads { get; } =
        new("3 nodes, safe reads", 3, ReadMode.Safe, nameof(ThreeNodeSimulationTests.ThreeNodeClusterKeepsSafetyUnderFaultsWithSafeReads));

    public static SimulationScenario ThreeNodesLeaseReads { get; } =
        new("3 nodes, lease reads", 3, ReadMode.LeaseBased, nameof(ThreeNodeSimulationTests.ThreeNodeClusterKeepsSafetyUnderFaultsWithLeaseReads));

    public static SimulationScenario FiveNodesSafeReads { get; } =
        new("5 nodes, safe reads", 5, ReadMode.Safe, nameof(FiveNodeSimulationTests.FiveNodeClusterKeepsSafetyUnderFaultsWithSafeReads));

    public static SimulationScenario FiveNodesLeaseReads { get; } =
        new("5 nodes, lease reads", 5, ReadMode.LeaseBased, nameof(FiveNodeSimulationTests.FiveNodeClusterKeepsSafetyUnderFaultsWithLeaseReads));

    /// <summary>
    /// The canary: nodes forget term and vote across restarts (Raft Figure 2 makes both persistent). The node-local
    /// check of persisted hard states is off, so only the cluster-wide properties can catch it.
    /// </summary>
    public static SimulationScenario ForgetsTermAndVote { get; } =
        new("3 nodes forgetting term and vote on restart", 3, ReadMode.Safe, nameof(SimulationCanaryTests.ForgettingTermAndVoteOnRestartIsCaughtByTheClusterChecks))
        {
            ForgetOnRestart = HardStateLoss.TermAndVote,
            CheckPersistedHardState = false,
        };

    /// <summary>The canary with an empty hard state after restart: term, vote and commit all lost.</summary>
    public static SimulationScenario ForgetsWholeHardState { get; } =
        new("3 nodes restarting with an empty hard state", 3, ReadMode.Safe, nameof(SimulationCanaryTests.RestartingWithAnEmptyHardStateIsReported))
        {
            ForgetOnRestart = HardStateLoss.Everything,
            CheckPersistedHardState = false,
        };

    /// <summary>The canary with the node-local check on: a persisted term going back or a vote changing in its term.</summary>
    public static SimulationScenario ForgetsTermAndVoteCheckedPerNode { get; } =
        ForgetsTermAndVote with
        {
            Name = "3 nodes forgetting term and vote on restart, persisted hard state checked",
            TestName = nameof(SimulationCanaryTests.ForgettingTermAndVoteOnRestartBreaksThePersistedHardStateCheck),
            CheckPersistedHardState = true,
        };
}
