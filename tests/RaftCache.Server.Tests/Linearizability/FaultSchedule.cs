using System.Diagnostics;
using System.Globalization;
using Orleans.TestingHost;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>The faults a <see cref="FaultSchedule"/> draws from.</summary>
internal enum FaultKind
{
    /// <summary>Kill the leader's silo (no graceful leave; its in-flight requests are lost).</summary>
    KillLeader,

    /// <summary>Kill the silo of a voter that does not lead.</summary>
    KillFollower,

    /// <summary>Restart a silo (graceful stop, then a new incarnation that joins as a new member).</summary>
    RestartSilo,

    /// <summary>Start an additional silo; placement may put replicas on it (as learners, promoted once caught up).</summary>
    AddSilo,

    /// <summary>Stop a silo gracefully; it asks the leader to remove it (possibly the leader itself).</summary>
    StopSilo,

    /// <summary>Cut group 0's leader (alone, or with a silo that is not its group's voter) off from the others, hold, then heal.</summary>
    PartitionLeader,

    /// <summary>Delay every replica call by a random time, which also reorders them, until a later heal.</summary>
    DelayMessages,

    /// <summary>Remove delays.</summary>
    Heal,
}

/// <summary>
/// A sequence of faults drawn from <c>new Random(seed)</c> and applied to a running cluster, keeping the group available:
/// at most one voter is lost between recoveries, and after every destructive fault the schedule waits (with a deadline)
/// until one leader leads three voters followed by every replica.
/// </summary>
/// <remarks>
/// Which fault comes next, which silo it hits and the pauses between faults come from the seed; what the cluster does in
/// response (who wins an election) does not, so the same seed replays the same decisions, not the same run.
/// </remarks>
internal sealed class FaultSchedule(CacheCluster cluster, int seed, LinearizabilitySettings settings)
{
    private const int MinSilos = 3;
    private const int MaxSilos = 5;
    private const int Voters = 3;

    private readonly Random _random = new(seed);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<string> _timeline = [];
    private readonly List<ulong> _leaders = [];

    /// <summary>What happened when, for the run report and failure messages.</summary>
    public IReadOnlyList<string> Timeline
    {
        get
        {
            lock (_timeline) return [.. _timeline];
        }
    }

    /// <summary>The faults applied, in order.</summary>
    public List<FaultKind> Applied { get; } = [];

    /// <summary>How often the leader observed by the schedule differed from the one observed before.</summary>
    public int LeaderChanges
    {
        get
        {
            lock (_leaders) return _leaders.Zip(_leaders.Skip(1)).Count(p => p.First != p.Second);
        }
    }

    /// <summary>
    /// Applies faults until <paramref name="duration"/> has passed, then heals. The first fault always kills the leader
    /// while the workload is in flight, so that every run has a leader change and requests whose outcome is unknown.
    /// </summary>
    public async Task RunAsync(TimeSpan duration)
    {
        var watch = Stopwatch.StartNew();
        await ApplyAsync(FaultKind.KillLeader);
        while (true)
        {
            // Pacing between faults, not a wait for a state: the workload runs against the recovered cluster for a while.
            await Task.Delay(TimeSpan.FromMilliseconds(_random.Next(300, 1500)));
            if (watch.Elapsed >= duration) break;
            await ApplyAsync(Draw());
        }

        cluster.Faults.Heal();
        Note("heal (end of schedule)");
    }

    /// <summary>Waits until every group has one leader of three voters (fewer with fewer silos) that its replicas follow; returns group 0's leader.</summary>
    /// <remarks>
    /// Unlike <see cref="CacheCluster.WaitForStableGroupAsync"/> this does not ask every replica to have applied the same
    /// index, which never holds at one instant while the workload keeps writing.
    /// </remarks>
    public async Task<ReplicaStatus> WaitForGroupAsync(string after, ulong? formerLeader = null)
    {
        ClusterStatus? last = null;
        ReplicaStatus? found = null;
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                var status = last = await cluster.StatusAsync();
                var leader = status.Leader;
                if (leader is null || status.Unreachable.Length > 0) return false;
                if (formerLeader is { } former && leader.MemberId == former) return false;
                var active = cluster.Cluster.GetActiveSilos().ToList();
                var live = active.Select(s => MemberIds.For(s.SiloAddress)).ToHashSet();
                // In every group: every voter must be live and every replica must have applied the same configuration:
                // a silo that Orleans already declared dead can remain a voter until the leader removes it, and losing
                // another voter before then would leave no majority. No learner is left: placement has finished.
                for (var group = 0; group < settings.Groups; group++)
                {
                    var groupLeader = status.LeaderOf(group);
                    if (groupLeader is null) return false;
                    var replicas = status.Replicas.Where(r => r.Group == group).ToList();
                    var stable = groupLeader.Voters.Length == Math.Min(Voters, active.Count)
                        && groupLeader.Learners.Length == 0
                        && groupLeader.Voters.All(live.Contains)
                        && replicas.Count == groupLeader.Voters.Length
                        && replicas.All(r => r.GroupId == groupLeader.GroupId && r.LeaderId == groupLeader.MemberId && r.Voters.SequenceEqual(groupLeader.Voters));
                    if (!stable) return false;
                }

                found = leader;
                return true;
            }, settings.RecoveryDeadline, $"a stable group after {after}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + Environment.NewLine + CacheCluster.Describe(last), e);
        }

        Record(found!.MemberId);
        Note($"stable: leader {found.MemberId} term {found.Term}, {found.Voters.Length} voters, {cluster.Cluster.GetActiveSilos().Count()} silos");
        return found;
    }

    private FaultKind Draw()
    {
        var silos = cluster.Cluster.GetActiveSilos().Count();
        var destructive = silos > MinSilos;
        var candidates = new List<(FaultKind Kind, int Weight)>
        {
            (FaultKind.PartitionLeader, 3),
            (cluster.Faults.IsDelaying ? FaultKind.Heal : FaultKind.DelayMessages, 2),
        };
        if (destructive)
        {
            candidates.Add((FaultKind.KillLeader, 2));
            candidates.Add((FaultKind.KillFollower, 2));
            candidates.Add((FaultKind.RestartSilo, 2));
            candidates.Add((FaultKind.StopSilo, 1));
        }

        // Back to four silos quickly after a loss, so that the next voter loss still leaves a learner to promote.
        if (silos < MaxSilos) candidates.Add((FaultKind.AddSilo, destructive ? 1 : 4));
        var roll = _random.Next(candidates.Sum(c => c.Weight));
        foreach (var (kind, weight) in candidates)
        {
            if (roll < weight) return kind;
            roll -= weight;
        }

        throw new UnreachableException();
    }

    private async Task ApplyAsync(FaultKind kind)
    {
        Applied.Add(kind);
        switch (kind)
        {
            case FaultKind.KillLeader:
            {
                var leader = await WaitForGroupAsync("before killing the leader");
                var silo = SiloOf(leader);
                Note($"kill leader {leader.MemberId} on {silo.SiloAddress}");
                await cluster.Cluster.KillSiloAsync(silo);
                await WaitForGroupAsync("killing the leader", formerLeader: leader.MemberId);
                break;
            }

            case FaultKind.KillFollower:
            {
                var leader = await WaitForGroupAsync("before killing a follower");
                var followers = leader.Voters.Where(v => v != leader.MemberId).Order().ToList();
                var victim = followers[_random.Next(followers.Count)];
                var silo = SiloOf(await StatusOfAsync(victim));
                Note($"kill follower {victim} on {silo.SiloAddress}");
                await cluster.Cluster.KillSiloAsync(silo);
                await WaitForGroupAsync("killing a follower");
                break;
            }

            case FaultKind.RestartSilo:
            {
                var silo = PickSilo();
                Note($"restart {silo.SiloAddress}");
                var restarted = await cluster.Cluster.RestartSiloAsync(silo);
                Note($"restarted as {restarted?.SiloAddress}");
                await WaitForGroupAsync("restarting a silo");
                break;
            }

            case FaultKind.AddSilo:
            {
                var added = await cluster.Cluster.StartAdditionalSiloAsync();
                Note($"added {added.SiloAddress}");
                await WaitForGroupAsync("adding a silo");
                break;
            }

            case FaultKind.StopSilo:
            {
                var silo = PickSilo();
                Note($"stop {silo.SiloAddress}");
                await cluster.Cluster.StopSiloAsync(silo);
                await WaitForGroupAsync("stopping a silo");
                break;
            }

            case FaultKind.PartitionLeader:
                await PartitionLeaderAsync();
                break;

            case FaultKind.DelayMessages:
            {
                var maxDelay = TimeSpan.FromMilliseconds(_random.Next(10, 60));
                cluster.Faults.DelayUpTo(maxDelay);
                Note($"delay replica calls up to {maxDelay.TotalMilliseconds:0} ms");
                break;
            }

            case FaultKind.Heal:
                cluster.Faults.Heal();
                Note("heal");
                break;

            default:
                throw new UnreachableException();
        }
    }

    private async Task PartitionLeaderAsync()
    {
        var leader = await WaitForGroupAsync("before partitioning the leader");
        var leaderSilo = SiloOf(leader);
        var silos = cluster.Cluster.GetActiveSilos().ToList();
        var minority = new List<InProcessSiloHandle> { leaderSilo };
        // Sometimes a silo that is not a voter of group 0 goes with the leader: the minority then has two silos but
        // still one of the group's voters (with several groups, it may hold voters of others).
        var nonVoters = silos.Where(s => !leader.Voters.Contains(MemberIds.For(s.SiloAddress))).ToList();
        if (nonVoters.Count > 0 && _random.Next(2) == 0) minority.Add(nonVoters[_random.Next(nonVoters.Count)]);
        var majority = silos.Where(s => !minority.Contains(s)).ToList();
        cluster.Faults.Partition(minority.Select(s => s.SiloAddress), majority.Select(s => s.SiloAddress));
        Note($"partition [{string.Join(", ", minority.Select(s => s.SiloAddress))}] from the others");

        // The new leader is looked for on the majority side only: the old one may still call itself leader until
        // check-quorum steps it down.
        var last = new List<ReplicaStatus>();
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                last.Clear();
                foreach (var silo in majority) last.Add(await cluster.ReplicaStatusAsync(silo));
                if (last.FirstOrDefault(r => r.Role == ReplicaRole.Leader && r.MemberId != leader.MemberId) is not { } elected) return false;
                Record(elected.MemberId);
                Note($"new leader {elected.MemberId} term {elected.Term} on the majority side");
                return true;
            }, settings.RecoveryDeadline, "a leader on the majority side of the partition");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + Environment.NewLine + CacheCluster.Describe(new ClusterStatus { Replicas = [.. last] }), e);
        }

        // Pacing: the old leader keeps receiving requests it cannot commit for a while.
        await Task.Delay(TimeSpan.FromMilliseconds(_random.Next(500, 2000)));
        // Any delay stays in force; only a Heal fault removes it.
        cluster.Faults.HealPartition();
        Note("partition healed");
        await WaitForGroupAsync("healing the partition");
    }

    /// <summary>Any active silo; restarting or stopping the leader is part of what is tested.</summary>
    private InProcessSiloHandle PickSilo()
    {
        var silos = cluster.Cluster.GetActiveSilos().OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        return silos[_random.Next(silos.Count)];
    }

    private async Task<ReplicaStatus> StatusOfAsync(ulong memberId) =>
        (await cluster.StatusAsync()).Replicas.First(r => r.MemberId == memberId);

    private InProcessSiloHandle SiloOf(ReplicaStatus replica) =>
        cluster.Cluster.GetActiveSilos().Single(s => s.SiloAddress.ToString() == replica.Silo);

    private void Record(ulong leader)
    {
        lock (_leaders)
        {
            if (_leaders.Count == 0 || _leaders[^1] != leader) _leaders.Add(leader);
        }
    }

    private void Note(string what)
    {
        lock (_timeline) _timeline.Add(string.Create(CultureInfo.InvariantCulture, $"{_clock.Elapsed.TotalSeconds,7:F2}s {what}"));
    }
}
