using System.Buffers.Binary;
using System.Text;
using RaftCache.Raft.Membership;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>The result of one seed.</summary>
internal sealed record SimulationOutcome(
    int Seed, SimulationScenario Scenario, FaultPlan Plan, SimulationCounters Counters, ulong Fingerprint,
    string? Failure, bool IsInvariantViolation, string Trace)
{
    public bool Passed => Failure is null;
}

/// <summary>
/// One seeded run of a cluster: a fault phase (loss, duplication, delay, reordering, partitions, crash-restart,
/// with random proposals, reads, leadership transfers and, in membership scenarios, membership changes), then a
/// healing phase that must converge.
/// Everything random comes from seeded <see cref="Random"/> instances; time is simulated; events are ordered by
/// (time, sequence); nodes are visited in id order. The same seed therefore takes exactly the same steps.
/// </summary>
internal sealed class SimulationRun
{
    // Workload continues this long into the healing phase, then the cluster must quiesce and converge.
    private const int HealWorkloadTicks = 40;
    private const int MinQuietTicks = 30;

    private readonly SimulationScenario _scenario;
    private readonly int _seed;
    private readonly Random _random;
    private readonly MembershipWorkload? _membership;
    private ulong _nextProposal;
    private ulong _nextReadId;
    private long _partitionEndsAtTick = -1;

    public SimulationRun(SimulationScenario scenario, int seed)
    {
        _scenario = scenario;
        _seed = seed;
        _random = new Random(seed);
        Plan = FaultPlan.Draw(_random, scenario);
        Counters = new SimulationCounters();
        Trace = new SimulationTrace();
        Network = new SimulatedNetwork(scenario.PoolSize, new Random(_random.Next()), Counters) { Plan = Plan };
        Checker = new InvariantChecker(this, scenario.CheckPersistedHardState);
        var bootstrap = new ConfState { Voters = [.. Enumerable.Range(1, scenario.NodeCount).Select(i => (ulong)i)] };
        var nodes = new List<SimulatedNode>();
        for (var id = 1UL; id <= (ulong)scenario.PoolSize; id++)
        {
            // Ids past the initial voters are spares: empty storage, waiting for a leader to add them.
            var initial = id <= (ulong)scenario.NodeCount;
            nodes.Add(new SimulatedNode(this, id, initial ? bootstrap : null, scenario.ForgetOnRestart, scenario.ForgetConfChangeOn == id));
        }

        Nodes = nodes;
        Checker.OnBootstrap(nodes[0].Stable.Snapshot(0));
        if (scenario.Membership)
        {
            _membership = new MembershipWorkload(new Random(_random.Next()), scenario.PoolSize, Math.Max(5, scenario.NodeCount + 1), Checker.IsRetired);
        }
    }

    public SimulationScenario Scenario => _scenario;

    public FaultPlan Plan { get; }

    public SimulationCounters Counters { get; }

    public SimulationTrace Trace { get; }

    public SimulatedNetwork Network { get; }

    public InvariantChecker Checker { get; }

    /// <summary>Nodes by id - 1.</summary>
    public IReadOnlyList<SimulatedNode> Nodes { get; }

    /// <summary>Simulated time in units (<see cref="SimulationScenario.UnitsPerTick"/> per tick).</summary>
    public long Now { get; private set; }

    public SimulationOutcome Execute()
    {
        string? failure = null;
        var isViolation = false;
        try
        {
            foreach (var node in Nodes) node.Start(Plan, _random.Next());
            long tick = 0;
            for (; tick < _scenario.FaultTicks; tick++)
            {
                Step(tick, faults: true, workload: true);
            }

            Heal(tick);
            var healStart = tick;
            var converged = false;
            for (; tick < healStart + _scenario.MaxHealTicks; tick++)
            {
                Step(tick, faults: false, workload: tick < healStart + HealWorkloadTicks);
                Counters.HealTicks++;
                if (tick >= healStart + HealWorkloadTicks + MinQuietTicks && HasConverged())
                {
                    converged = true;
                    break;
                }
            }

            if (!converged)
            {
                throw new InvariantViolationException(
                    "convergence after healing", $"no convergence {_scenario.MaxHealTicks} ticks after the faults stopped:\n{DescribeNodes()}");
            }

            CheckConverged();
        }
        catch (InvariantViolationException violation)
        {
            failure = violation.Message;
            isViolation = true;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The core threw (an invariant of its own, or a bug): report it with the seed like any violation.
            failure = $"exception at t={Now / SimulationScenario.UnitsPerTick}: {exception}";
        }

        Counters.SeedsWithSnapshotInstall = Counters.SnapshotsInstalled > 0 ? 1 : 0;
        return new SimulationOutcome(
            _seed, _scenario, Plan, Counters, Trace.Fingerprint, failure, isViolation,
            failure is null ? string.Empty : $"{DescribeNodes()}last steps:\n{Trace.Describe()}");
    }

    private void Step(long tick, bool faults, bool workload)
    {
        Now = tick * SimulationScenario.UnitsPerTick;
        Trace.Record(new TraceEvent(Now, TraceKind.Tick, 0, 0, default, 0, (ulong)tick, 0));
        RestartDueNodes(tick);
        if (faults) InjectFaults(tick);

        foreach (var node in Nodes)
        {
            if (!node.IsUp) continue;
            node.Raft!.Tick();
            node.HandleReadies();
        }

        if (workload) RunWorkload();
        if (tick % 10 == 0)
        {
            Checker.CheckStableLogsMatch();
            if (_scenario.Membership)
            {
                foreach (var node in Nodes)
                {
                    if (node.IsUp) Checker.CheckConfigInForce(node);
                }
            }
        }

        DeliverUntil(Now + SimulationScenario.UnitsPerTick - 1);
        Counters.Ticks++;
    }

    private void DeliverUntil(long until)
    {
        while (Network.TryNext(until, out var networkEvent, out var time))
        {
            Now = time;
            var message = networkEvent.Message;
            switch (networkEvent.Kind)
            {
                case NetworkEventKind.Deliver:
                {
                    var target = Nodes[(int)message.To - 1];
                    if (!target.IsUp || Network.IsCut(networkEvent.Sender, message.To))
                    {
                        // Down, or the link was cut while the message was in flight.
                        Network.Drop(message, networkEvent.Sender, Now, networkEvent.SenderIncarnation, linkCut: true);
                        Trace.Record(new TraceEvent(Now, TraceKind.Drop, message.To, networkEvent.Sender, message.Type, message.Term, message.Index, (ulong)message.Entries.Length));
                        break;
                    }

                    Counters.MessagesDelivered++;
                    Trace.Record(new TraceEvent(Now, TraceKind.Deliver, message.To, networkEvent.Sender, message.Type, message.Term, message.Index, message.Entries.IsEmpty ? message.Commit : (ulong)message.Entries.Length));
                    try
                    {
                        target.Raft!.Step(message);
                    }
                    catch (MalformedMessageException refused)
                    {
                        // A driver would drop and log it (the recipient changed nothing). But a correct node never
                        // sends a malformed message, so a refusal means the sender is broken (the canaries' lying
                        // storage) or the validation refused a correct message: either way the run has failed.
                        throw new InvariantViolationException(
                            "well-formed messages", $"node {message.To} refused a message of node {networkEvent.Sender}: {refused.Message}");
                    }

                    target.HandleReadies();
                    if (message.Type == MessageType.InstallSnapshot) Network.ReportSnapshotDelivered(message, networkEvent.Sender, Now, networkEvent.SenderIncarnation);
                    break;
                }

                case NetworkEventKind.SnapshotReport or NetworkEventKind.Unreachable:
                {
                    // The report goes back to the sender, if it is still the incarnation that sent.
                    var sender = Nodes[(int)networkEvent.Sender - 1];
                    if (!sender.IsUp || sender.Incarnation != networkEvent.SenderIncarnation) break;
                    var kind = networkEvent.Kind == NetworkEventKind.SnapshotReport ? TraceKind.SnapshotReport : TraceKind.Unreachable;
                    Trace.Record(new TraceEvent(Now, kind, sender.Id, message.To, message.Type, message.Term, message.Index, networkEvent.Success ? 1UL : 0));
                    if (kind == TraceKind.SnapshotReport) sender.Raft!.ReportSnapshot(message.To, networkEvent.Success);
                    else sender.Raft!.ReportUnreachable(message.To);
                    sender.HandleReadies();
                    break;
                }

                default:
                    throw new InvalidOperationException($"Unknown network event {networkEvent.Kind}.");
            }
        }
    }

    private void RestartDueNodes(long tick)
    {
        foreach (var node in Nodes)
        {
            if (node.IsUp || node.RestartAtTick > tick) continue;
            node.Start(Plan, _random.Next());
            Counters.Restarts++;
            if (_scenario.Membership && Checker.LatestConfig.IsJoint && IsMember(Checker.LatestConfig, node.Id)) Counters.RestartsWhileJoint++;
            Trace.Record(new TraceEvent(Now, TraceKind.Restart, node.Id, 0, default, node.Hard.Term, node.Stable.LastIndex(), (ulong)node.Incarnation));
            node.HandleReadies();
        }
    }

    private void InjectFaults(long tick)
    {
        if (_partitionEndsAtTick >= 0 && tick >= _partitionEndsAtTick)
        {
            Network.RepairLinks();
            _partitionEndsAtTick = -1;
            Trace.Record(new TraceEvent(Now, TraceKind.RepairLinks, 0, 0, default, 0, 0, 0));
        }
        else if (_partitionEndsAtTick < 0 && _random.NextDouble() < Plan.PartitionRate)
        {
            var kind = Partition();
            _partitionEndsAtTick = tick + _random.Next(Plan.MinPartitionTicks, Plan.MaxPartitionTicks + 1);
            Counters.Partitions++;
            Trace.Record(new TraceEvent(Now, TraceKind.Partition, 0, 0, default, 0, (ulong)_partitionEndsAtTick, kind));
        }

        // At most a minority down by single crashes keeps the cluster making progress; a power loss takes everyone.
        if (_random.NextDouble() < Plan.CrashRate)
        {
            var node = Nodes[_random.Next(Nodes.Count)];
            if (node.IsUp && MayCrash(node)) Crash(node, tick);
        }

        if (_random.NextDouble() < Plan.CrashAllRate)
        {
            foreach (var node in Nodes)
            {
                if (node.IsUp) Crash(node, tick);
            }
        }
    }

    /// <summary>Cuts links: one node isolated, a split into two sides, or random one-way cuts. Returns the kind.</summary>
    private ulong Partition()
    {
        var count = Nodes.Count;
        var kind = (ulong)_random.Next(3);
        switch (kind)
        {
            case 0:
            {
                var isolated = (ulong)_random.Next(1, count + 1);
                for (var other = 1UL; other <= (ulong)count; other++)
                {
                    if (other == isolated) continue;
                    Network.Cut(isolated, other);
                    Network.Cut(other, isolated);
                }

                break;
            }

            case 1:
            {
                // Fisher-Yates over ids, then the first 1..count/2 form the minority side.
                var ids = Enumerable.Range(1, count).Select(i => (ulong)i).ToArray();
                for (var i = ids.Length - 1; i > 0; i--)
                {
                    var j = _random.Next(i + 1);
                    (ids[i], ids[j]) = (ids[j], ids[i]);
                }

                var minority = _random.Next(1, (count / 2) + 1);
                for (var i = 0; i < minority; i++)
                {
                    for (var j = minority; j < count; j++)
                    {
                        Network.Cut(ids[i], ids[j]);
                        Network.Cut(ids[j], ids[i]);
                    }
                }

                break;
            }

            default:
            {
                for (var from = 1UL; from <= (ulong)count; from++)
                {
                    for (var to = 1UL; to <= (ulong)count; to++)
                    {
                        if (from != to && _random.NextDouble() < 0.3) Network.Cut(from, to);
                    }
                }

                break;
            }
        }

        return kind;
    }

    /// <summary>
    /// Whether a single crash of <paramref name="node"/> leaves a majority of every voter set up. With membership
    /// changes the voter sets are those of the newest applied configuration, both of them while joint (thesis §4.3:
    /// a joint configuration needs a majority of each); learners and non-members never count toward a quorum.
    /// </summary>
    private bool MayCrash(SimulatedNode node)
    {
        if (!_scenario.Membership) return Nodes.Count(n => !n.IsUp) < (Nodes.Count - 1) / 2;
        var config = Checker.LatestConfig;
        return KeepsMajority(config.Voters) && KeepsMajority(config.VotersOutgoing);

        bool KeepsMajority(System.Collections.Immutable.ImmutableArray<ulong> voters)
        {
            if (!voters.Contains(node.Id)) return true;
            var down = voters.Count(id => !Nodes[(int)id - 1].IsUp) + 1;
            return down <= (voters.Length - 1) / 2;
        }
    }

    private static bool IsMember(ConfState config, ulong id) =>
        config.Voters.Contains(id) || config.VotersOutgoing.Contains(id) || config.Learners.Contains(id);

    private void Crash(SimulatedNode node, long tick)
    {
        node.Crash();
        node.CrashedAtTick = tick;
        node.RestartAtTick = tick + _random.Next(Plan.MinDowntimeTicks, Plan.MaxDowntimeTicks + 1);
        Counters.Crashes++;
        Trace.Record(new TraceEvent(Now, TraceKind.Crash, node.Id, 0, default, node.Hard.Term, node.Stable.LastIndex(), (ulong)node.RestartAtTick));
    }

    private void RunWorkload()
    {
        if (_random.NextDouble() < Plan.ProposeRate)
        {
            var node = RandomUpNode();
            var batch = _random.Next(1, Plan.MaxProposalBatch + 1);
            if (node is not null)
            {
                for (var i = 0; i < batch; i++) Propose(node);
                node.HandleReadies();
            }
        }

        if (_random.NextDouble() < Plan.ReadRate)
        {
            var node = RandomUpNode();
            if (node is not null)
            {
                var requestId = ++_nextReadId;
                Checker.OnReadRequested(node, requestId, _scenario.ReadMode);
                Counters.ReadsRequested++;
                if (!node.Raft!.ReadIndex(requestId, _scenario.ReadMode)) Counters.ReadsRefused++;
                Trace.Record(new TraceEvent(Now, TraceKind.Read, node.Id, 0, default, 0, Checker.MaxCommitKnown, requestId));
                node.HandleReadies();
            }
        }

        if (_random.NextDouble() < Plan.TransferRate)
        {
            var leader = Nodes.Where(n => n.IsUp && n.Role == StateRole.Leader).OrderByDescending(n => n.Hard.Term).FirstOrDefault();
            if (leader is not null)
            {
                var target = _scenario.Membership ? RandomOf(Checker.LatestConfig.Voters) : (ulong)_random.Next(1, Nodes.Count + 1);
                if (target != leader.Id)
                {
                    Counters.Transfers++;
                    Trace.Record(new TraceEvent(Now, TraceKind.Transfer, leader.Id, target, default, leader.Hard.Term, 0, 0));
                    leader.Raft!.TransferLeader(target);
                    leader.HandleReadies();
                }
            }
        }

        if (_membership is not null) RunMembershipWorkload(_membership);
    }

    /// <summary>
    /// Asks the newest leader for a random valid membership change, now and then through a random node instead
    /// (a follower forwards it and the leader validates it again). An explicit joint configuration is left by a
    /// separate, independent draw, so that it lasts a while, across faults, before the empty change ends it.
    /// </summary>
    private void RunMembershipWorkload(MembershipWorkload membership)
    {
        var leave = _random.NextDouble() < Plan.LeaveJointRate;
        var change = _random.NextDouble() < Plan.ConfChangeRate;
        var viaOther = _random.Next(8) == 0;
        if (!leave && !change) return;
        var leader = NewestLeader();
        if (leader is null) return;
        var config = MembershipConfig.FromConfState(leader.Raft!.Status.ConfState);
        if (leave && config.IsJoint && !config.AutoLeave) ProposeConfChange(leader, new ConfChange(), viaOther);
        else if (change && membership.Draw(config, leader.Id) is { } drawn) ProposeConfChange(leader, drawn, viaOther);
    }

    private void ProposeConfChange(SimulatedNode leader, ConfChange change, bool viaOther)
    {
        var proposer = viaOther ? RandomUpNode() ?? leader : leader;
        var result = proposer.Raft!.ProposeConfChange(change);
        Counters.ConfChangesProposed++;
        if (result.IsAccepted) Counters.ConfChangesAccepted++;
        Trace.Record(new TraceEvent(Now, TraceKind.ConfChangeProposed, proposer.Id, ConfChangeDescription.Pack(change), default, result.Id.Term, result.Id.Index, (ulong)result.Outcome));
        proposer.HandleReadies();
    }

    /// <summary>The leader of the highest term among the running nodes (a stale leader may not know it is deposed yet).</summary>
    private SimulatedNode? NewestLeader()
    {
        SimulatedNode? leader = null;
        foreach (var node in Nodes)
        {
            if (node.IsUp && node.Role == StateRole.Leader && (leader is null || node.Hard.Term > leader.Hard.Term)) leader = node;
        }

        return leader;
    }

    private void Propose(SimulatedNode node)
    {
        // A unique payload per proposal, so that applied sequences compare by content.
        var payload = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, ++_nextProposal);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), node.Id);
        var result = node.Raft!.Propose(payload);
        switch (result.Outcome)
        {
            case ProposeOutcome.Accepted: Counters.ProposalsAccepted++; break;
            case ProposeOutcome.Forwarded: Counters.ProposalsForwarded++; break;
            default: Counters.ProposalsDropped++; break;
        }

        Trace.Record(new TraceEvent(Now, TraceKind.Propose, node.Id, 0, default, result.Id.Term, result.Id.Index, (ulong)result.Outcome));
    }

    private SimulatedNode? RandomUpNode()
    {
        // With membership changes most of the pool is spare or removed at any time; clients talk to members mostly,
        // and to anyone now and then (a removed node that still believes in an old leader forwards to it).
        var node = _scenario.Membership && _random.Next(8) != 0
            ? Nodes[(int)RandomOf(MembersOf(Checker.LatestConfig)) - 1]
            : Nodes[_random.Next(Nodes.Count)];
        return node.IsUp ? node : null;
    }

    private ulong RandomOf(IReadOnlyList<ulong> ids) => ids[_random.Next(ids.Count)];

    /// <summary>Voters of both sides and learners, ascending.</summary>
    private static List<ulong> MembersOf(ConfState config) =>
        [.. config.Voters.Concat(config.VotersOutgoing).Concat(config.Learners).Distinct().Order()];

    /// <summary>No more faults: links repaired, loss and duplication off, every node back (after its minimum downtime).</summary>
    private void Heal(long tick)
    {
        Network.RepairLinks();
        Network.FaultsEnabled = false;
        _partitionEndsAtTick = -1;
        foreach (var node in Nodes)
        {
            if (!node.IsUp) node.RestartAtTick = Math.Min(node.RestartAtTick, node.CrashedAtTick + Plan.MinDowntimeTicks);
        }

        Trace.Record(new TraceEvent(tick * SimulationScenario.UnitsPerTick, TraceKind.Heal, 0, 0, default, 0, 0, 0));
    }

    /// <summary>
    /// Converged: every node up, and every member following one leader, which committed an entry of its own term;
    /// every member has the leader's last index, commit and applied index, and nothing committed is missing anywhere.
    /// Members are those of the leader's configuration; a removed node (or a spare never added) may keep an old
    /// configuration and log forever, as it hears from no leader: it is excluded.
    /// </summary>
    private bool HasConverged()
    {
        var leader = NewestLeader();
        if (leader is null || Nodes.Any(n => !n.IsUp)) return false;
        var term = leader.Hard.Term;
        var commit = leader.Hard.Commit;
        var last = leader.Stable.LastIndex();
        if (commit != last || commit < Checker.MaxCommitKnown || leader.Stable.Term(last) != term) return false;
        var config = _scenario.Membership ? leader.Raft!.Status.ConfState : null;
        foreach (var node in Nodes)
        {
            if (config is not null && !IsMember(config, node.Id)) continue;
            if (node.Leader != leader.Id || node.Hard.Term != term || node.Hard.Commit != commit || node.Machine.Applied != commit) return false;
            if (node.Stable.LastIndex() != last || node.Stable.Term(last) != term) return false;
        }

        return true;
    }

    /// <summary>
    /// After convergence: identical logs where they overlap, identical state machines, nothing committed lost; with
    /// membership, every member runs the leader's configuration, which is the newest committed one, and no
    /// non-member believes it leads.
    /// </summary>
    private void CheckConverged()
    {
        Checker.CheckStableLogsMatch();
        var leader = NewestLeader()!;
        var commit = leader.Hard.Commit;
        if (commit != Checker.MaxApplied)
        {
            throw new InvariantViolationException(
                "convergence after healing", $"the cluster converged at {commit} but entry {Checker.MaxApplied} was applied somewhere");
        }

        var config = _scenario.Membership ? leader.Raft!.Status.ConfState : null;
        if (config is not null && !config.Voters.Contains(leader.Id) && !config.VotersOutgoing.Contains(leader.Id))
        {
            throw new InvariantViolationException(
                "convergence after healing", $"leader {leader.Id} of term {leader.Hard.Term} is not a voter of its own configuration");
        }

        if (config is not null && !config.Equals(Checker.LatestConfig))
        {
            throw new InvariantViolationException(
                "convergence after healing",
                $"leader {leader.Id} runs with {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(config))}, not the newest committed configuration {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(Checker.LatestConfig))}");
        }

        foreach (var node in Nodes)
        {
            if (config is not null && !IsMember(config, node.Id))
            {
                // A removed leader that missed its removal is deposed by check-quorum (thesis §4.2.2, §6.2) long
                // before the quiet period ends.
                if (node.Role == StateRole.Leader)
                {
                    throw new InvariantViolationException(
                        "convergence after healing", $"node {node.Id} is not a member but still leads term {node.Hard.Term}");
                }

                continue;
            }

            if (node.Machine.StateHash != Checker.StateHashAt(commit))
            {
                throw new InvariantViolationException("convergence after healing", $"node {node.Id}'s state machine differs at {commit}");
            }

            if (config is not null) Checker.CheckConfigInForce(node);
        }
    }

    private string DescribeNodes()
    {
        var text = new StringBuilder();
        text.AppendLine($"plan: {Plan}");
        text.AppendLine($"max commit known {Checker.MaxCommitKnown}, max applied {Checker.MaxApplied}");
        foreach (var node in Nodes)
        {
            text.Append($"  node {node.Id}: {(node.IsUp ? "up" : $"down until tick {node.RestartAtTick}")}, incarnation {node.Incarnation}, ");
            text.Append($"{node.Role} (leader {node.Leader}), {node.Hard}, applied {node.Machine.Applied}, ");
            text.Append($"log {node.Stable.FirstIndex()}..{node.Stable.LastIndex()}");
            if (_scenario.Membership && node.IsUp) text.Append($", config {ConfChangeDescription.Unpack(ConfChangeDescription.Pack(node.Raft!.Status.ConfState))}");
            text.AppendLine();
        }

        return text.ToString();
    }
}
