namespace RaftCache.Raft.Tests.Simulation;

/// <summary>The fixed shape of a simulated run; everything else (fault rates, timings, limits) is drawn from the seed.</summary>
/// <param name="Name">Printed with a failing seed.</param>
/// <param name="NodeCount">Voters of the group, all bootstrapped together (ids 1..NodeCount).</param>
/// <param name="ReadMode">The mode of every read the run issues.</param>
/// <param name="TestName">The test that runs this scenario, for the replay hint.</param>
internal sealed record SimulationScenario(string Name, int NodeCount, ReadMode ReadMode, string TestName)
{
    private readonly int _poolSize;

    /// <summary>Simulated time units per tick: messages arrive between ticks, not only on them.</summary>
    public const int UnitsPerTick = 10;

    /// <summary>The election timeout every node uses (the RaftConfig default, repeated here for the fault plan).</summary>
    public const int ElectionTick = 10;

    /// <summary>Ticks with faults, proposals and reads.</summary>
    public int FaultTicks { get; init; } = 500;

    /// <summary>Ticks allowed after the faults stop for the cluster to converge; not converging is a failure.</summary>
    public int MaxHealTicks { get; init; } = 1000;

    /// <summary>The canary: what the storage forgets of the hard state across a restart.</summary>
    public HardStateLoss ForgetOnRestart { get; init; }

    /// <summary>
    /// Whether each node's persisted hard state is checked on its own (term never decreases, a vote is never changed
    /// within its term). The canary turns it off to prove that the cluster-wide checks catch the bug too.
    /// </summary>
    public bool CheckPersistedHardState { get; init; } = true;

    /// <summary>
    /// Whether the workload changes the membership (thesis §4.3): learners added and promoted, voters demoted,
    /// removed (the leader too) and replaced through joint configurations.
    /// </summary>
    public bool Membership { get; init; }

    /// <summary>
    /// Node ids 1..PoolSize exist from the start; ids above <see cref="NodeCount"/> are spares with empty storage that
    /// wait to be added. Defaults to <see cref="NodeCount"/>.
    /// </summary>
    public int PoolSize
    {
        get => _poolSize == 0 ? NodeCount : _poolSize;
        init => _poolSize = value;
    }

    /// <summary>The membership canary: this node's driver never calls RawNode.ApplyConfChange (0: none).</summary>
    public ulong ForgetConfChangeOn { get; init; }
}

/// <summary>What the canary's storage forgets on restart.</summary>
internal enum HardStateLoss
{
    /// <summary>Nothing: correct stable storage.</summary>
    None,

    /// <summary>All of it: the node restarts with an empty hard state (term, vote and commit 0).</summary>
    Everything,

    /// <summary>Term and vote, but not the commit index.</summary>
    TermAndVote,
}

/// <summary>The rates and limits of one run, drawn from its seed so that seeds cover mild and harsh conditions.</summary>
internal sealed record FaultPlan
{
    public double LossRate { get; init; }

    public double DuplicateRate { get; init; }

    /// <summary>Smallest delivery delay in time units.</summary>
    public int MinDelay { get; init; }

    /// <summary>Extra random delay in time units, uniformly in [0, DelayJitter]: reorders messages.</summary>
    public int DelayJitter { get; init; }

    /// <summary>Probability that a message is held back much longer (up to <see cref="LongDelay"/> units).</summary>
    public double LongDelayRate { get; init; }

    public int LongDelay { get; init; }

    /// <summary>Probability per tick that a node crashes.</summary>
    public double CrashRate { get; init; }

    /// <summary>Probability per tick that every node crashes at once (a power loss).</summary>
    public double CrashAllRate { get; init; }

    public int MinDowntimeTicks { get; init; }

    public int MaxDowntimeTicks { get; init; }

    /// <summary>Probability per tick that a partition starts, when none is in force.</summary>
    public double PartitionRate { get; init; }

    public int MinPartitionTicks { get; init; }

    public int MaxPartitionTicks { get; init; }

    /// <summary>Probability per tick that a batch of proposals arrives at a random node.</summary>
    public double ProposeRate { get; init; }

    public int MaxProposalBatch { get; init; }

    /// <summary>Probability per tick that a read is requested at a random node.</summary>
    public double ReadRate { get; init; }

    /// <summary>Probability per tick that the leader is asked to transfer leadership.</summary>
    public double TransferRate { get; init; }

    /// <summary>A node snapshots its state machine and compacts its log once it applied this many entries past its snapshot.</summary>
    public int CompactEvery { get; init; }

    /// <summary>Entries kept in the log below the snapshot point when compacting.</summary>
    public int CompactKeep { get; init; }

    /// <summary>RaftConfig.MaxSizePerMsg: small values split appends and exercise the size limit.</summary>
    public long MaxSizePerMsg { get; init; }

    /// <summary>RaftConfig.MaxInflightMsgs: small values exercise flow control.</summary>
    public int MaxInflightMsgs { get; init; }

    /// <summary>RaftConfig.MaxUncommittedEntriesSize: bounds the leader's backlog, dropping proposals beyond it.</summary>
    public long MaxUncommittedEntriesSize { get; init; }

    /// <summary>Probability per tick that the leader is asked for a random membership change (membership scenarios only).</summary>
    public double ConfChangeRate { get; init; }

    /// <summary>Probability per tick that the leader is asked to leave an explicit joint configuration.</summary>
    public double LeaveJointRate { get; init; }

    public static FaultPlan Draw(Random random, SimulationScenario scenario)
    {
        // A lease read is only safe if no voter that acknowledged the lease can vote for someone else before it
        // expires. A restarted node has forgotten which leader it last heard from, so it must stay down for at least
        // an election timeout (thesis §6.4.1: bounded clock drift, and in practice restarts slower than the
        // lease). Safe reads carry no such assumption, so their runs also restart nodes immediately.
        var minDowntime = scenario.ReadMode == ReadMode.LeaseBased ? SimulationScenario.ElectionTick : 1;
        var plan = new FaultPlan
        {
            LossRate = random.NextDouble() * 0.15,
            DuplicateRate = random.NextDouble() * 0.08,
            MinDelay = 1 + random.Next(3),
            DelayJitter = random.Next(4, 16),
            LongDelayRate = random.NextDouble() * 0.05,
            LongDelay = random.Next(20, 60),
            CrashRate = 0.002 + (random.NextDouble() * 0.01),
            CrashAllRate = random.Next(4) == 0 ? 0.002 : 0,
            MinDowntimeTicks = minDowntime,
            MaxDowntimeTicks = minDowntime + random.Next(5, 80),
            PartitionRate = 0.005 + (random.NextDouble() * 0.02),
            MinPartitionTicks = 5,
            MaxPartitionTicks = random.Next(20, 100),
            ProposeRate = 0.2 + (random.NextDouble() * 0.7),
            MaxProposalBatch = 1 + random.Next(4),
            ReadRate = 0.1 + (random.NextDouble() * 0.4),
            TransferRate = random.NextDouble() * 0.01,
            CompactEvery = random.Next(8, 40),
            CompactKeep = random.Next(0, 6),
            // Tight limits in half the seeds exercise message splitting and flow control. A window of one message of
            // one entry drains a backlog slower than the workload fills it, so the limits stay above that.
            MaxSizePerMsg = random.Next(2) == 0 ? 1024 * 1024 : random.Next(100, 400),
            MaxInflightMsgs = random.Next(2) == 0 ? 256 : random.Next(2, 9),
            MaxUncommittedEntriesSize = random.Next(3) == 0 ? random.Next(1_000, 8_000) : 0,
        };

        // Drawn last and only for membership scenarios, so that the other scenarios' seeds replay as before.
        if (!scenario.Membership) return plan;
        return plan with
        {
            ConfChangeRate = 0.03 + (random.NextDouble() * 0.07),
            LeaveJointRate = 0.02 + (random.NextDouble() * 0.08),
        };
    }

    public override string ToString() =>
        $"loss {LossRate:F3}, dup {DuplicateRate:F3}, delay {MinDelay}+{DelayJitter}u (long {LongDelayRate:F3} x {LongDelay}u), " +
        $"crash {CrashRate:F4}/tick (all {CrashAllRate:F4}) down {MinDowntimeTicks}-{MaxDowntimeTicks} ticks, " +
        $"partition {PartitionRate:F4}/tick for {MinPartitionTicks}-{MaxPartitionTicks}, propose {ProposeRate:F2}x{MaxProposalBatch}, " +
        $"read {ReadRate:F2}, transfer {TransferRate:F4}, compact every {CompactEvery} keep {CompactKeep}, " +
        $"max msg {MaxSizePerMsg} B, inflight {MaxInflightMsgs}, max uncommitted {MaxUncommittedEntriesSize} B" +
        (ConfChangeRate > 0 ? $", conf change {ConfChangeRate:F3}/tick, leave joint {LeaveJointRate:F3}/tick" : string.Empty);
}
