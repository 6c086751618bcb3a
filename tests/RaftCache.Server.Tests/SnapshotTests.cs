using System.Text;

namespace RaftCache.Server.Tests;

/// <summary>
/// Snapshots taken on demand from a point-in-time view and streamed in pieces, and a log compacted by bytes and by
/// what the followers need.
/// </summary>
[Collection(ClusterCollection.Name)]
public class SnapshotTests
{
    [Fact]
    public async Task ANewMemberCatchesUpByAStreamedSnapshotWhileWritesContinue()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options =>
        {
            options.CompactionRetainedEntries = 100;
            // Four voters once a fourth silo comes, so that placement puts the group's replica on it.
            options.Voters = 4;
            // Small pieces, so the snapshot of a few megabytes travels in many calls.
            options.SnapshotChunkBytes = 16 * 1024;
        });
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var value = new string('v', 64);
        const int Filled = 20_000;
        for (var start = 0; start < Filled; start += 1000)
            await Task.WhenAll(Enumerable.Range(start, 1000).Select(i => cluster.Cache.PutAsync($"fill:{i}", value)));
        var leader = await cluster.LeaderSiloAsync();
        // Counted over every silo: leadership may move (to the group's preferred leader) while the new member joins.
        var (snapshots, pieces) = cluster.SnapshotsSent();

        await using (var load = new WriteLoad(cluster.Cache, workers: 8))
        {
            await load.WaitForAcknowledgedAsync(200, TimeSpan.FromSeconds(60));
            var added = await cluster.Cluster.StartAdditionalSiloAsync();
            var addedId = (await cluster.ReplicaStatusAsync(added)).MemberId;
            try
            {
                await Eventually.WaitAsync(async () => (await cluster.ReplicaStatusAsync(added)).EntryCount >= Filled, TimeSpan.FromSeconds(120),
                    "the new member to hold the filled entries");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException(e.Message + Environment.NewLine + CacheCluster.Describe(await cluster.StatusAsync()), e);
            }
            var during = load.Acknowledged.Count;
            await load.WaitForAcknowledgedAsync(during + 200, TimeSpan.FromSeconds(60));
            await load.StopAsync();
            Assert.Equal(0, load.Failures);
            await FailoverTests.AssertEveryAcknowledgedWriteIsEverywhere(cluster, load);
            var status = await cluster.StatusAsync();
            Assert.Contains(addedId, status.Leader!.Voters.Concat(status.Leader.Learners));
        }

        var (snapshotsAfter, piecesAfter) = cluster.SnapshotsSent();
        Assert.True(snapshotsAfter > snapshots, "The new member did not catch up by snapshot.");
        Assert.True(piecesAfter - pieces > 10, $"The snapshot travelled in {piecesAfter - pieces} pieces.");
        foreach (var i in new[] { 0, Filled / 2, Filled - 1 })
        {
            var reply = await cluster.Replica(cluster.Cluster.GetActiveSilos().Last()).ReadAsync(Encoding.UTF8.GetBytes($"fill:{i}"), ReadConsistency.Local, TimeSpan.FromSeconds(5));
            Assert.Equal(value, reply.Value is null ? null : Encoding.UTF8.GetString(reply.Value));
        }
    }

    [Fact]
    public async Task TheLogStaysWithinItsByteBudgetAndAFollowerBehindItCatchesUpBySnapshot()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options =>
        {
            options.CompactionRetainedEntries = 20;
            options.MaxSizePerMessage = 64 * 1024;
            options.MaxLogBytes = 256 * 1024;
            options.Cache.MaxValueBytes = 16 * 1024;
        });
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        var leader = await cluster.LeaderSiloAsync();
        var follower = cluster.Cluster.GetActiveSilos().First(s => s != leader);
        var (snapshots, _) = cluster.SnapshotsSent();

        // The follower is cut off while a megabyte of writes goes through: four times the log's budget.
        cluster.Faults.Isolate(follower.SiloAddress, cluster.Cluster.GetActiveSilos().Select(s => s.SiloAddress));
        var value = new string('x', 1024);
        for (var i = 0; i < 1024; i += 64) await Task.WhenAll(Enumerable.Range(i, 64).Select(k => cluster.Cache.PutAsync($"k{k}", value)));

        var leaderStatus = await cluster.ReplicaStatusAsync(leader);
        var followerStatus = await cluster.ReplicaStatusAsync(follower);
        Assert.True(leaderStatus.LogBytes <= 256 * 1024 + 64 * 1024, $"The leader's log holds {leaderStatus.LogBytes} bytes.");
        Assert.True(leaderStatus.FirstIndex > followerStatus.Applied + 1, $"The leader kept its log from {leaderStatus.FirstIndex}; the cut-off follower is at {followerStatus.Applied}.");

        cluster.Faults.Heal();
        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(60));
        Assert.Single(status.Replicas.Select(r => r.StateDigest).Distinct());
        Assert.All(status.Replicas, r => Assert.Equal(1024, r.EntryCount));
        Assert.True(cluster.SnapshotsSent().Snapshots > snapshots, "The follower did not catch up by snapshot.");
        Assert.All(status.Replicas, r => Assert.True(r.LogBytes <= 256 * 1024 + 64 * 1024, $"{r.Silo} holds {r.LogBytes} bytes of log."));
    }
}
