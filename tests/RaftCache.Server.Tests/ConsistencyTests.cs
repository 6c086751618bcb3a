using System.Text;
using Orleans.TestingHost;

namespace RaftCache.Server.Tests;

/// <summary>The three read consistency levels differ observably.</summary>
[Collection(ClusterCollection.Name)]
public class ConsistencyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task LeaseReadsSendNoRaftMessagesWhileLinearizableReadsConfirmLeadershipEachTime()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        await cluster.Cache.PutAsync("k", "v");
        var leader = await cluster.LeaderSiloAsync();
        var replica = cluster.Replica(leader);
        var instruments = cluster.SiloService<RaftCacheInstruments>(leader);
        var key = Encoding.UTF8.GetBytes("k");
        const int reads = 100;

        async Task<long> MessagesDuring(ReadConsistency consistency)
        {
            var before = instruments.MessagesSent;
            for (var i = 0; i < reads; i++)
            {
                var reply = await replica.ReadAsync(key, consistency, Timeout);
                Assert.Equal(CacheStatusCode.Ok, reply.Status);
                Assert.Equal("v", Encoding.UTF8.GetString(reply.Value!));
            }

            return instruments.MessagesSent - before;
        }

        var lease = await MessagesDuring(ReadConsistency.Lease);
        var linearizable = await MessagesDuring(ReadConsistency.Linearizable);

        // Each sequential linearizable read needs its own heartbeat round to both followers (thesis §6.4); lease
        // reads add nothing to the periodic heartbeats and time entries that run anyway.
        Assert.True(linearizable >= 2 * reads, $"{reads} linearizable reads sent only {linearizable} messages.");
        Assert.True(lease < reads / 2, $"{reads} lease reads coincided with {lease} messages.");
    }

    [Fact]
    public async Task PartitionedReplicasServeStaleLocalReadsButNeverStaleLinearizableOrLeaseReads()
    {
        await using var cluster = await CacheCluster.StartAsync(3);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var key = Encoding.UTF8.GetBytes("k");
        await cluster.Cache.PutAsync(key, Encoding.UTF8.GetBytes("old"));
        await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(10));

        var oldLeader = await cluster.LeaderSiloAsync();
        var silos = cluster.Cluster.GetActiveSilos().ToList();
        cluster.Faults.Isolate(oldLeader.SiloAddress, silos.Select(s => s.SiloAddress));

        // The majority side elects a new leader and accepts a write the old leader never sees.
        InProcessSiloHandle? newLeader = null;
        await Eventually.WaitAsync(async () =>
        {
            foreach (var silo in silos.Where(s => s != oldLeader))
            {
                var status = await cluster.ReplicaStatusAsync(silo);
                if (status.Role == ReplicaRole.Leader) newLeader = silo;
            }

            return newLeader is not null;
        }, TimeSpan.FromSeconds(20), "a leader on the majority side");
        var write = await cluster.Replica(newLeader!).WriteAsync(new CacheRequest { Operation = CacheOperation.Put, Key = key, Value = Encoding.UTF8.GetBytes("new") }, TimeSpan.FromSeconds(5));
        Assert.Equal(CacheStatusCode.Ok, write.Status);

        var isolated = cluster.Replica(oldLeader);
        var local = await isolated.ReadAsync(key, ReadConsistency.Local, Timeout);
        Assert.Equal(CacheStatusCode.Ok, local.Status);
        Assert.Equal("old", Encoding.UTF8.GetString(local.Value!));

        foreach (var consistency in new[] { ReadConsistency.Linearizable, ReadConsistency.Lease })
        {
            var read = await isolated.ReadAsync(key, consistency, Timeout);
            Assert.True(read.Status != CacheStatusCode.Ok || Encoding.UTF8.GetString(read.Value!) == "new",
                $"A {consistency} read on the partitioned old leader returned '{(read.Value is null ? "absent" : Encoding.UTF8.GetString(read.Value))}'.");
        }

        cluster.Faults.Heal();
        await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(20));
        var healed = await isolated.ReadAsync(key, ReadConsistency.Local, Timeout);
        Assert.Equal("new", Encoding.UTF8.GetString(healed.Value!));
    }
}
