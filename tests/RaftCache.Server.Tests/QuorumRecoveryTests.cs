using System.Text;
using Orleans.Serialization.Buffers;
using RaftCache.Client;
using RaftCache.Raft;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Tests;

/// <summary>
/// Quorum-loss recovery on a real in-process cluster (design §4, "Quorum-loss recovery"): a group whose majority of
/// voters died is re-formed from its survivors while the silos keep running.
/// </summary>
public sealed class QuorumRecoveryTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ManualRecoveryKeepsTheSurvivorsDataAndReplacementsJoinTheNewEpoch()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options => options.RequestTimeout = TimeSpan.FromSeconds(2));
        await cluster.WaitForStableGroupAsync(voters: 3, Settle);
        var written = await WriteKeysAsync(cluster.Cache, "before", 50);
        await cluster.WaitForQuiescenceAsync(Settle);

        var silos = cluster.Cluster.GetActiveSilos().ToList();
        var survivor = silos[0];
        await KillAtOnceAsync(cluster, survivor, silos.Skip(1));
        await Assert.ThrowsAsync<CacheUnavailableException>(() => cluster.Cache.PutAsync("during", "outage"));

        // A dry run changes nothing; it answers Planned once Orleans has declared the two silos dead.
        var plan = await WaitForOutcomeAsync(cluster.Cache, RecoveryOutcome.Planned);
        Assert.Equal(survivor.SiloAddress.ToString(), plan.ChosenSilo);
        Assert.Equal([survivor.SiloAddress.ToString()], plan.Survivors);
        Assert.Equal(2, plan.DeadVoters.Length);
        Assert.True(plan.KeptIndex >= (ulong)written.Values.Max(), $"kept index {plan.KeptIndex} is below the last acknowledged write");
        Assert.Equal(0UL, plan.EntriesBehindKnownCommit);
        var unchanged = await cluster.ReplicaStatusAsync(survivor);
        Assert.Equal(0UL, unchanged.Epoch);
        Assert.Equal(0UL, unchanged.LeaderId);

        var recovered = Assert.Single(await cluster.Cache.RecoverQuorumAsync(group: 0, confirm: true));
        Assert.True(recovered.Outcome == RecoveryOutcome.Recovered, recovered.Message);
        Assert.True(recovered.Epoch > unchanged.Term, $"epoch {recovered.Epoch} must be above every survivor's term ({unchanged.Term})");
        cluster.Faults.Heal();

        // Writes and linearizable reads resume on the survivor's data.
        await cluster.Cache.PutAsync("after", "recovery");
        Assert.Equal("recovery", await cluster.Cache.GetAsync("after"));
        foreach (var (key, version) in written)
        {
            var entry = await cluster.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key));
            Assert.NotNull(entry);
            Assert.Equal(version, entry.Version);
        }

        var leader = await cluster.ReplicaStatusAsync(survivor);
        Assert.Equal(ReplicaRole.Leader, leader.Role);
        Assert.Equal(recovered.Epoch, leader.Epoch);
        Assert.Equal([leader.MemberId], leader.Voters);

        // Replacement silos join the recovered group as usual: learners first, then voters, in the new epoch.
        await cluster.Cluster.StartAdditionalSiloAsync();
        await cluster.Cluster.StartAdditionalSiloAsync();
        await cluster.WaitForStableGroupAsync(voters: 3, Settle);
        var status = await cluster.WaitForQuiescenceAsync(Settle);
        Assert.All(status.Replicas, r => Assert.Equal(recovered.Epoch, r.Epoch));
        Assert.Single(status.Replicas.Select(r => r.StateDigest).Distinct());
        var again = Assert.Single(await cluster.Cache.RecoverQuorumAsync(confirm: true));
        Assert.Equal(RecoveryOutcome.NotNeeded, again.Outcome);

        // A replica of the old epoch can never take part again: its messages are dropped. They are sent first, with a
        // higher term than the control that follows: the same message in the current epoch, which shows that the epoch is
        // what stops them (a leader that hears of a higher term steps down). Terms never decrease, so had an old-epoch
        // message been stepped, the term would end at or above its term.
        var leaderSilo = await cluster.LeaderSiloAsync();
        var before = await cluster.ReplicaStatusAsync(leaderSilo);
        var layout = (await cluster.Replica(leaderSilo).GetLayout())!;
        await DeliverAppendAsync(cluster, leaderSilo, new GroupId(layout.Id, 0, Epoch: 0), before.MemberId, before.Term + 200);
        await DeliverAppendAsync(cluster, leaderSilo, new GroupId(layout.Id, 0, Epoch: recovered.Epoch - 1), before.MemberId, before.Term + 200);
        await DeliverAppendAsync(cluster, leaderSilo, new GroupId(layout.Id, 0, recovered.Epoch), before.MemberId, before.Term + 100);
        await Eventually.WaitAsync(async () => (await cluster.ReplicaStatusAsync(leaderSilo)).Term >= before.Term + 100, Settle,
            "the current epoch's message with a higher term to reach the leader (the control)");
        var afterAll = await cluster.ReplicaStatusAsync(leaderSilo);
        Assert.True(afterAll.Term < before.Term + 200, $"an old epoch's message moved the term to {afterAll.Term}");
    }

    [Fact]
    public async Task RecoveryKeepsTheMostUpToDateSurvivorAndTheOtherSurvivorCatchesUpAsAVoter()
    {
        await using var cluster = await CacheCluster.StartAsync(5, options =>
        {
            options.Voters = 5;
            options.RequestTimeout = TimeSpan.FromSeconds(2);
        });
        await cluster.WaitForStableGroupAsync(voters: 5, Settle);
        var first = await WriteKeysAsync(cluster.Cache, "first", 20);
        await cluster.WaitForQuiescenceAsync(Settle);

        // One follower falls behind (its Raft traffic is cut); another follower receives every later write.
        var status = await cluster.StatusAsync();
        var leaderStatus = status.Leader!;
        var followers = cluster.Cluster.GetActiveSilos().Where(s => s.SiloAddress.ToString() != leaderStatus.Silo).ToList();
        var behind = followers[0];
        var ahead = followers[1];
        var all = cluster.Cluster.GetActiveSilos().Select(s => s.SiloAddress).ToList();
        cluster.Faults.Isolate(behind.SiloAddress, all);
        var second = await WriteKeysAsync(cluster.Cache, "second", 20);
        await Eventually.WaitAsync(async () => (await cluster.ReplicaStatusAsync(ahead)).Applied >= (ulong)second.Values.Max(), Settle,
            "the follower that stays ahead to apply the second writes");
        var behindLast = (await cluster.ReplicaStatusAsync(behind)).LastIndex;
        Assert.True(behindLast < (ulong)second.Values.Min(), "the isolated follower must lack the second writes");

        // The leader and the other two followers die at once: two survivors remain of five voters.
        var victims = cluster.Cluster.GetActiveSilos().Where(s => !s.Equals(behind) && !s.Equals(ahead)).ToList();
        await KillAtOnceAsync(cluster, ahead, victims);
        cluster.Faults.Heal();

        var plan = await WaitForOutcomeAsync(cluster.Cache, RecoveryOutcome.Planned);
        Assert.Equal(ahead.SiloAddress.ToString(), plan.ChosenSilo);
        Assert.Equal(2, plan.Survivors.Length);
        Assert.Equal(3, plan.DeadVoters.Length);
        var recovered = Assert.Single(await cluster.Cache.RecoverQuorumAsync(confirm: true));
        Assert.True(recovered.Outcome == RecoveryOutcome.Recovered, recovered.Message);
        Assert.Equal(ahead.SiloAddress.ToString(), recovered.ChosenSilo);

        // Both survivors are the voters of the recovered group; the one behind caught up from the chosen one's log.
        await cluster.WaitForStableGroupAsync(voters: 2, Settle, learners: 0);
        var final = await cluster.WaitForQuiescenceAsync(Settle);
        Assert.Equal(2, final.Replicas.Length);
        Assert.Single(final.Replicas.Select(r => r.StateDigest).Distinct());
        foreach (var (key, version) in first.Concat(second))
        {
            var entry = await cluster.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key), ReadConsistency.Linearizable);
            Assert.Equal(version, entry?.Version);
        }
    }

    [Fact]
    public async Task RecoveryLosesExactlyTheAcknowledgedWritesThatOnlyTheDeadVotersHeld()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options => options.RequestTimeout = TimeSpan.FromSeconds(2));
        await cluster.WaitForStableGroupAsync(voters: 3, Settle);
        var kept = await WriteKeysAsync(cluster.Cache, "kept", 20);
        await cluster.WaitForQuiescenceAsync(Settle);

        var leaderStatus = (await cluster.StatusAsync()).Leader!;
        var silos = cluster.Cluster.GetActiveSilos().ToList();
        var survivor = silos.First(s => s.SiloAddress.ToString() != leaderStatus.Silo);
        cluster.Faults.Isolate(survivor.SiloAddress, silos.Select(s => s.SiloAddress));
        // Acknowledged by the leader and the other follower only.
        var lost = await WriteKeysAsync(cluster.Cache, "lost", 20);
        await KillAtOnceAsync(cluster, survivor, silos.Where(s => !s.Equals(survivor)));
        cluster.Faults.Heal();

        var recovered = await WaitForOutcomeAsync(cluster.Cache, RecoveryOutcome.Recovered, confirm: true);
        Assert.True(recovered.KeptIndex >= (ulong)kept.Values.Max(), $"kept index {recovered.KeptIndex} is below an acknowledged write the survivor held");
        Assert.True(recovered.KeptIndex < (ulong)lost.Values.Min(), $"kept index {recovered.KeptIndex} claims writes the survivor never received");

        // The loss bound, from versions (each write's log index): every acknowledged write at or below the kept index is
        // there with its version; every one above it is gone.
        foreach (var (key, version) in kept)
            Assert.Equal(version, (await cluster.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key)))?.Version);
        foreach (var (key, _) in lost)
            Assert.Null(await cluster.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key)));
        await cluster.Cache.PutAsync("lost-0", "written again");
        Assert.Equal("written again", await cluster.Cache.GetAsync("lost-0"));
    }

    [Fact]
    public async Task AutomaticRecoveryReformsTheGroupOnceOrleansDeclaredTheMajorityDead()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options =>
        {
            options.RequestTimeout = TimeSpan.FromSeconds(2);
            options.QuorumLossRecovery = QuorumLossRecoveryMode.Automatic;
            options.QuorumLossRecoveryAfter = TimeSpan.FromSeconds(2);
        });
        await cluster.WaitForStableGroupAsync(voters: 3, Settle);
        var written = await WriteKeysAsync(cluster.Cache, "auto", 20);
        await cluster.WaitForQuiescenceAsync(Settle);
        var silos = cluster.Cluster.GetActiveSilos().ToList();
        var survivor = silos[^1];
        await KillAtOnceAsync(cluster, survivor, silos.Where(s => !s.Equals(survivor)));
        cluster.Faults.Heal();

        // No command: the survivor re-forms the group itself.
        await Eventually.WaitAsync(async () =>
        {
            await cluster.Cache.PutAsync("auto-after", "recovered");
            return true;
        }, Settle, "writes to work again after automatic recovery");
        var status = await cluster.ReplicaStatusAsync(survivor);
        Assert.Equal(ReplicaRole.Leader, status.Role);
        Assert.True(status.Epoch > 0, "the group must be in a new epoch");
        foreach (var (key, version) in written)
            Assert.Equal(version, (await cluster.Cache.GetEntryAsync(Encoding.UTF8.GetBytes(key)))?.Version);
    }

    [Fact]
    public async Task RecoveryIsRefusedWhileAVoterWithoutQuorumIsOnlyUnreachable()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options => options.RequestTimeout = TimeSpan.FromSeconds(2));
        await cluster.WaitForStableGroupAsync(voters: 3, Settle);
        await cluster.Cache.PutAsync("k", "v");
        var silos = cluster.Cluster.GetActiveSilos().ToList();
        var survivor = silos[0];
        var unreachable = silos[1];
        // One voter dies; another is cut off from Raft traffic but its silo stays alive in Orleans' view. The group has
        // no quorum, yet the cut-off voter could still be part of one: recovering would risk two histories.
        cluster.Faults.Isolate(unreachable.SiloAddress, silos.Select(s => s.SiloAddress));
        await KillAtOnceAsync(cluster, survivor, [silos[2]]);
        await Eventually.WaitAsync(async () => (await cluster.StatusAsync()).Replicas.All(r => r.LeaderId == 0), Settle, "no replica to know a leader");
        await Eventually.WaitAsync(async () => (await cluster.Cache.RecoverQuorumAsync()).All(r => r.DeadVoters.Length == 1), Settle,
            "Orleans to declare the killed silo dead");

        var report = Assert.Single(await cluster.Cache.RecoverQuorumAsync(confirm: true));
        Assert.True(report.Outcome == RecoveryOutcome.NotNeeded, report.Message);
        Assert.Single(report.DeadVoters);
        Assert.All((await cluster.StatusAsync()).Replicas, r => Assert.Equal(0UL, r.Epoch));

        // Once the cut heals, the two live voters elect a leader of the original epoch, with the data.
        cluster.Faults.Heal();
        await Eventually.WaitAsync(async () => await cluster.Cache.GetAsync("k") == "v", Settle, "the group to elect a leader again");
    }

    [Fact]
    public async Task AGroupWithNoSurvivingReplicaIsFormedAnewEmptyWithoutRestartingTheCluster()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options =>
        {
            options.Voters = 1;
            options.RequestTimeout = TimeSpan.FromSeconds(2);
        });
        // The group's one replica must be where placement wants it, or the group would still be moving it, and the new
        // replica, a learner, would survive with the data (and recovery would rightly keep its log).
        var placement = cluster.SiloService<Host.LocalReplica>(cluster.Cluster.GetActiveSilos().First()).Host!;
        await Eventually.WaitAsync(async () =>
        {
            var status = await cluster.StatusAsync();
            return status.Replicas.Length == 1 && status.Leader is { Learners.Length: 0 } leader && placement.PlacementOf(0) is [var chosen] && leader.Silo == chosen.ToString();
        }, Settle, "the group's only replica to lead on the silo placement chooses");
        await cluster.Cache.PutAsync("gone", "with its only replica");
        var holder = await cluster.LeaderSiloAsync();
        cluster.Faults.Isolate(holder.SiloAddress, cluster.Cluster.GetActiveSilos().Select(s => s.SiloAddress));
        await cluster.Cluster.KillSiloAsync(holder);

        var plan = await WaitForOutcomeAsync(cluster.Cache, RecoveryOutcome.Planned);
        Assert.True(plan.Message.Contains("No replica of the group survived", StringComparison.Ordinal), plan.ToString());
        Assert.Empty(plan.Survivors);
        var formed = Assert.Single(await cluster.Cache.RecoverQuorumAsync(confirm: true));
        Assert.True(formed.Outcome == RecoveryOutcome.Recovered, formed.Message);
        cluster.Faults.Heal();
        await cluster.Cache.PutAsync("new", "group");
        Assert.Equal("group", await cluster.Cache.GetAsync("new"));
        Assert.Null(await cluster.Cache.GetAsync("gone"));
        await cluster.WaitForStableGroupAsync(voters: 1, Settle);
        Assert.All((await cluster.StatusAsync()).Replicas, r => Assert.Equal(formed.Epoch, r.Epoch));
    }

    /// <summary>Writes <paramref name="count"/> new keys; returns each key's version (the log index of its write).</summary>
    internal static async Task<Dictionary<string, long>> WriteKeysAsync(IRaftCacheClient cache, string prefix, int count)
    {
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var key = $"{prefix}-{i}";
            versions[key] = await cache.SetAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"value of {key}"));
        }

        return versions;
    }

    /// <summary>
    /// Kills <paramref name="victims"/> at once, leaving <paramref name="survivor"/>: their Raft traffic is cut first,
    /// because an in-process kill still runs a dying silo's shutdown for a moment, long enough to hand over its
    /// leadership or acknowledge its own removal. Returns once the survivor knows no leader.
    /// </summary>
    internal static async Task KillAtOnceAsync(CacheCluster cluster, Orleans.TestingHost.InProcessSiloHandle survivor, IEnumerable<Orleans.TestingHost.InProcessSiloHandle> victims)
    {
        var dying = victims.ToList();
        var everyone = cluster.Cluster.GetActiveSilos().Select(s => s.SiloAddress).ToList();
        foreach (var victim in dying) cluster.Faults.Isolate(victim.SiloAddress, everyone);
        await Task.WhenAll(dying.Select(victim => cluster.Cluster.KillSiloAsync(victim)));
        await Eventually.WaitAsync(async () => (await cluster.ReplicaStatusAsync(survivor)).LeaderId == 0, Settle, "the survivor to know no leader");
    }

    /// <summary>Asks for recovery until a report has <paramref name="outcome"/> (Orleans must first declare the dead silos dead).</summary>
    internal static async Task<GroupRecovery> WaitForOutcomeAsync(IRaftCacheClient cache, RecoveryOutcome outcome, bool confirm = false)
    {
        GroupRecovery? last = null;
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                last = Assert.Single(await cache.RecoverQuorumAsync(group: 0, confirm: confirm));
                return last.Outcome == outcome;
            }, Settle, $"recovery to answer {outcome}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Last report: {last}", e);
        }

        return last!;
    }

    /// <summary>Sends an empty append from a made-up member with <paramref name="term"/> to the group's replica on <paramref name="silo"/>.</summary>
    private static async Task DeliverAppendAsync(CacheCluster cluster, Orleans.TestingHost.InProcessSiloHandle silo, GroupId group, ulong to, ulong term)
    {
        // PooledBuffer is a mutable struct: write through one boxed copy, and take the written state back out of it.
        System.Buffers.IBufferWriter<byte> writer = new PooledBuffer();
        RaftMessageCodec.WriteBatchHeader(writer);
        var from = 4242UL;
        RaftMessageCodec.WriteGroup(writer, group, from, to, [new Message { Type = MessageType.Append, From = from, To = to, Term = term }]);
        await cluster.Replica(silo).Deliver(new RaftBatch { FromSilo = silo.SiloAddress, Payload = (PooledBuffer)writer });
    }
}
