using System.Buffers.Binary;
using System.Text;

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
/// with random proposals, reads and leadership transfers), then a healing phase that must converge.
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
        Network = new SimulatedNetwork(scenario.NodeCount, new Random(_random.Next()), Counters) { Plan = Plan };
        Checker = new InvariantChecker(this, scenario.CheckPersistedHardState);
        var bootstrap = new ConfState { Voters = [.. Enumerable.Range(1, scenario.NodeCount).Select(i => (ulong)i)] };
        var nodes = new List<SimulatedNode>();
        for (var id = 1UL; id <= (ulong)scenario.NodeCount; id++)
        {
            nodes.Add(new SimulatedNode(this, id, bootstrap, scenario.ForgetOnRestart));
        }

        Nodes = nodes;
        Checker.OnBootstrap(nodes[0].Stable.Snapshot(0));
    }

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
        if (tick % 10 == 0) Checker.CheckStableLogsMatch();

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
                    target.Raft!.Step(message);
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
        var maxDown = (Nodes.Count - 1) / 2;
        if (_random.NextDouble() < Plan.CrashRate)
        {
            var node = Nodes[_random.Next(Nodes.Count)];
            if (node.IsUp && Nodes.Count(n => !n.IsUp) < maxDown) Crash(node, tick);
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
                var target = (ulong)_random.Next(1, Nodes.Count + 1);
                if (target != leader.Id)
                {
                    Counters.Transfers++;
                    Trace.Record(new TraceEvent(Now, TraceKind.Transfer, leader.Id, target, default, leader.Hard.Term, 0, 0));
                    leader.Raft!.TransferLeader(target);
                    leader.HandleReadies();
                }
            }
        }
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
        var node = Nodes[_random.Next(Nodes.Count)];
        return node.IsUp ? node : null;
    }

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
    /// Converged: every node up and following one leader, which committed an entry of its own term; every node has
    /// the leader's last index, commit and applied index, and nothing committed is missing anywhere.
    /// </summary>
    private bool HasConverged()
    {
        var leader = Nodes.FirstOrDefault(n => n.IsUp && n.Role == StateRole.Leader);
        if (leader is null || Nodes.Any(n => !n.IsUp)) return false;
        var term = leader.Hard.Term;
        var commit = leader.Hard.Commit;
        var last = leader.Stable.LastIndex();
        if (commit != last || commit < Checker.MaxCommitKnown || leader.Stable.Term(last) != term) return false;
        foreach (var node in Nodes)
        {
            if (node.Leader != leader.Id || node.Hard.Term != term || node.Hard.Commit != commit || node.Machine.Applied != commit) return false;
            if (node.Stable.LastIndex() != last || node.Stable.Term(last) != term) return false;
        }

        return true;
    }

    /// <summary>After convergence: identical logs where they overlap, identical state machines, nothing committed lost.</summary>
    private void CheckConverged()
    {
        Checker.CheckStableLogsMatch();
        var commit = Nodes[0].Hard.Commit;
        if (commit != Checker.MaxApplied)
        {
            throw new InvariantViolationException(
                "convergence after healing", $"the cluster converged at {commit} but entry {Checker.MaxApplied} was applied somewhere");
        }

        foreach (var node in Nodes)
        {
            if (node.Machine.StateHash != Checker.StateHashAt(commit))
            {
                throw new InvariantViolationException("convergence after healing", $"node {node.Id}'s state machine differs at {commit}");
            }
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
            text.AppendLine($"log {node.Stable.FirstIndex()}..{node.Stable.LastIndex()}");
        }

        return text.ToString();
    }
}
