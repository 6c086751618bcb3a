using System.Text;

namespace RaftCache.Server.Tests;

/// <summary>Losing or partitioning the leader loses no acknowledged write, and writes resume.</summary>
[Collection(ClusterCollection.Name)]
public class FailoverTests
{
    [Fact]
    public async Task KillingTheLeaderDuringAWriteLoadLosesNoAcknowledgedWrite()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var oldLeader = await cluster.LeaderSiloAsync();

        await using var load = new WriteLoad(cluster.Cache, workers: 8);
        await load.WaitForAcknowledgedAsync(100, TimeSpan.FromSeconds(30));
        await cluster.Cluster.KillSiloAsync(oldLeader);
        var beforeRecovery = load.Acknowledged.Count;
        await load.WaitForAcknowledgedAsync(beforeRecovery + 100, TimeSpan.FromSeconds(60));
        await load.StopAsync();

        // The dead voter is removed; the two survivors form the group.
        await cluster.WaitForStableGroupAsync(voters: 2, TimeSpan.FromSeconds(30));
        await AssertEveryAcknowledgedWriteIsEverywhere(cluster, load);
    }

    [Fact]
    public async Task PartitioningTheLeaderLosesNoAcknowledgedWriteAndTheOldLeaderCatchesUpAfterHealing()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var oldLeader = await cluster.LeaderSiloAsync();
        var oldLeaderId = (await cluster.ReplicaStatusAsync(oldLeader)).MemberId;

        await using var load = new WriteLoad(cluster.Cache, workers: 8);
        await load.WaitForAcknowledgedAsync(100, TimeSpan.FromSeconds(30));
        cluster.Faults.Isolate(oldLeader.SiloAddress, cluster.Cluster.GetActiveSilos().Select(s => s.SiloAddress));
        ulong partitionTerm = 0;
        await Eventually.WaitAsync(async () =>
        {
            var status = await cluster.StatusAsync();
            if (status.Leader is not { } leader || leader.MemberId == oldLeaderId) return false;
            partitionTerm = leader.Term;
            return true;
        }, TimeSpan.FromSeconds(30), "a new leader on the majority side");
        var duringPartition = load.Acknowledged.Count;
        await load.WaitForAcknowledgedAsync(duringPartition + 50, TimeSpan.FromSeconds(60));

        cluster.Faults.Heal();
        await load.StopAsync();
        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(30));
        var old = status.Replicas.Single(r => r.MemberId == oldLeaderId);
        // The old leader learnt the majority's term: it is no stale leader. It may lead again, in a later term, when
        // leadership moves back to its group's preferred leader after the partition heals.
        Assert.True(old.Term >= partitionTerm, $"the old leader is at term {old.Term}, the majority elected a leader at {partitionTerm}");
        if (old.Role == ReplicaRole.Leader) Assert.True(old.Term > partitionTerm, $"the old leader leads at term {old.Term}, not after {partitionTerm}");
        Assert.Equal(3, status.Leader!.Voters.Length);
        await AssertEveryAcknowledgedWriteIsEverywhere(cluster, load);
    }

    /// <summary>
    /// Every group's replicas agree (one digest per group), every acknowledged write is on every replica of its key's
    /// group, and reads through the client see it.
    /// </summary>
    internal static async Task AssertEveryAcknowledgedWriteIsEverywhere(CacheCluster cluster, WriteLoad load)
    {
        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(30));
        foreach (var group in status.Groups)
            Assert.Single(status.Replicas.Where(r => r.Group == group).Select(r => r.StateDigest).Distinct());
        var layout = (await cluster.Facade.GetLimits()).Layout!;
        foreach (var silo in cluster.Cluster.GetActiveSilos())
        {
            var replica = cluster.Replica(silo);
            var held = status.Replicas.Where(r => r.Silo == silo.SiloAddress.ToString()).Select(r => r.Group).ToHashSet();
            foreach (var (key, value) in load.Acknowledged)
            {
                var bytes = Encoding.UTF8.GetBytes(key);
                var group = layout.GroupOf(bytes);
                if (!held.Contains(group)) continue;
                var reply = await replica.ReadAsync(bytes, ReadConsistency.Local, TimeSpan.FromSeconds(5), group);
                Assert.True(reply.Value is not null && Encoding.UTF8.GetString(reply.Value) == value,
                    $"Acknowledged write {key}={value} is missing on {silo.SiloAddress} (group {group}).");
            }
        }

        foreach (var (key, value) in load.Acknowledged.Take(50)) Assert.Equal(value, await cluster.Cache.GetAsync(key));
    }
}
