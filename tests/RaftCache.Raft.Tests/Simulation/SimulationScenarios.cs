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
    /// Three voters grown to up to five and shrunk again by random membership changes (thesis §4.3), from a pool of
    /// twelve ids: ids 4..12 start as spares with empty storage, and removed ids are never reused.
    /// </summary>
    public static SimulationScenario ThreeToFiveWithMembership { get; } =
        new("3 to 5 nodes with membership changes, safe reads", 3, ReadMode.Safe, nameof(MembershipSimulationTests.ThreeToFiveNodeClusterKeepsSafetyUnderMembershipChangesAndFaults))
        {
            Membership = true,
            PoolSize = 12,
        };

    /// <summary>Five voters (up to six) under random membership changes, from a pool of fourteen ids, with lease reads.</summary>
    public static SimulationScenario FiveWithMembership { get; } =
        new("5 nodes with membership changes, lease reads", 5, ReadMode.LeaseBased, nameof(MembershipSimulationTests.FiveNodeClusterKeepsSafetyUnderMembershipChangesAndFaultsWithLeaseReads))
        {
            Membership = true,
            PoolSize = 14,
        };

    /// <summary>The membership canary: node 2's driver never calls ApplyConfChange, so it keeps the configuration it started with.</summary>
    public static SimulationScenario ForgetsConfChanges { get; } =
        ThreeToFiveWithMembership with
        {
            Name = "3 to 5 nodes with membership changes, node 2 never applying them",
            TestName = nameof(SimulationCanaryTests.ADriverThatDoesNotApplyConfChangesIsCaught),
            ForgetConfChangeOn = 2,
        };

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
