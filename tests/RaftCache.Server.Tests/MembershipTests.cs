using RaftCache.Client;

namespace RaftCache.Server.Tests;

/// <summary>The Raft group follows the Orleans cluster: joins, restarts, growth and shrinkage.</summary>
[Collection(ClusterCollection.Name)]
public class MembershipTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task SilosStartedTogetherFormExactlyOneGroup(int silos)
    {
        await using var cluster = await CacheCluster.StartAsync(silos);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(45), learners: 0);

        // Placement keeps the group on three of the silos: the others hold no replica of it.
        var status = await cluster.StatusAsync();
        Assert.Equal(3, status.Replicas.Length);
        Assert.Single(status.Replicas.Select(r => r.GroupId).Distinct());
        Assert.Single(status.Replicas, r => r.Role == ReplicaRole.Leader);
        await cluster.Cache.PutAsync("k", "v");
        Assert.Equal("v", await cluster.Cache.GetAsync("k"));
    }

    [Fact]
    public async Task ARestartedSiloRejoinsAsANewMemberThroughASnapshotAndBecomesAVoterAgain()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options =>
        {
            options.CompactionRetainedEntries = 10;
            // Small chunks, so the snapshot travels in several calls.
            options.SnapshotChunkBytes = 1024;
        });
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        for (var i = 0; i < 200; i++) await cluster.Cache.PutAsync($"k{i}", $"v{i}");

        var leader = await cluster.LeaderSiloAsync();
        var follower = cluster.Cluster.GetActiveSilos().First(s => s != leader);
        var oldMemberId = (await cluster.ReplicaStatusAsync(follower)).MemberId;
        var (snapshotsBefore, _) = cluster.SnapshotsSent();

        var restarted = await cluster.Cluster.RestartSiloAsync(follower) ?? throw new InvalidOperationException("The silo did not restart.");
        var newMemberId = (await cluster.ReplicaStatusAsync(restarted)).MemberId;
        Assert.NotEqual(oldMemberId, newMemberId);

        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(45), learners: 0);
        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(20));
        Assert.Contains(newMemberId, status.Leader!.Voters);
        Assert.DoesNotContain(oldMemberId, status.Leader.Voters);
        Assert.True(cluster.SnapshotsSent().Snapshots > snapshotsBefore, "The restarted member did not catch up by snapshot.");
        Assert.Single(status.Replicas.Select(r => r.StateDigest).Distinct());
        Assert.Equal("v199", await cluster.Cache.GetAsync("k199"));
    }

    [Fact]
    public async Task LosingAMajorityOfVotersMakesTheGroupReportItselfUnavailable()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options => options.RequestTimeout = TimeSpan.FromSeconds(2));
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        await cluster.Cache.PutAsync("k", "v");
        // A client whose own deadline is shorter than the façade's (2 s here); its session exists before the loss.
        using var impatient = new RaftCacheClient(cluster.Cluster.Client, callTimeout: TimeSpan.FromMilliseconds(500));
        await impatient.PutAsync("mine", "1");
        var silos = cluster.Cluster.GetActiveSilos().ToList();
        var survivor = silos[0];
        var healthy = await cluster.HealthAsync(survivor);
        Assert.True(healthy.Status == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, healthy.Entries["raftcache"].Description);
        // A crash at once of two of the three voters: cut them off first, because an in-process kill still runs the
        // dying silos' shutdown for a moment, long enough to acknowledge their own removal.
        cluster.Faults.Isolate(survivor.SiloAddress, silos.Select(s => s.SiloAddress));
        foreach (var silo in silos.Skip(1)) await cluster.Cluster.KillSiloAsync(silo);

        var survivorReplica = cluster.Replica(survivor);
        ReplicaStatus? last = null;
        try
        {
            await Eventually.WaitAsync(async () => (last = await cluster.ReplicaStatusAsync(survivor)) is { Healthy: false, LeaderId: 0 }, TimeSpan.FromSeconds(30),
                "the survivor to report that no leader is known");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Last status: {last}", e);
        }

        var status = await cluster.ReplicaStatusAsync(survivor);
        Assert.Contains("majority", status.Message, StringComparison.Ordinal);
        var unhealthy = await cluster.HealthAsync(survivor);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Contains("know no leader", unhealthy.Entries["raftcache"].Description, StringComparison.Ordinal);

        var write = await survivorReplica.WriteAsync(new CacheRequest { Operation = CacheOperation.Put, Key = [1], Value = [1] }, TimeSpan.FromSeconds(1));
        Assert.Equal(CacheStatusCode.NotLeader, write.Status);
        var error = await Assert.ThrowsAnyAsync<RaftCacheException>(() => cluster.Cache.PutAsync("k2", "v2"));
        Assert.IsType<CacheUnavailableException>(error);
        // A stale local read is still possible on request.
        Assert.Equal("v", await cluster.Cache.GetAsync("k", ReadConsistency.Local));

        // The client's own deadline ends a write first: proposed or not, its fate is unknown to the client, which
        // stops counting it as awaiting an answer. (The façade's deadline would have said Unavailable.)
        await Assert.ThrowsAsync<CacheOutcomeUnknownException>(() => impatient.PutAsync("mine", "2"));
        await Assert.ThrowsAsync<CacheUnavailableException>(() => impatient.GetAsync("mine"));
    }

    [Fact]
    public async Task TheGroupGrowsToFiveVotersAndShrinksBackAsSilosComeAndGo()
    {
        await using var cluster = await CacheCluster.StartAsync(3, options => options.Voters = 5);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(30));
        await cluster.Cache.PutAsync("before", "growth");

        var added = new[] { await cluster.Cluster.StartAdditionalSiloAsync(), await cluster.Cluster.StartAdditionalSiloAsync() };
        await cluster.WaitForStableGroupAsync(voters: 5, TimeSpan.FromSeconds(45), learners: 0);
        await cluster.Cache.PutAsync("during", "five");
        var status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(20));
        Assert.Single(status.Replicas.Select(r => r.StateDigest).Distinct());

        foreach (var silo in added) await cluster.Cluster.StopSiloAsync(silo);
        await cluster.WaitForStableGroupAsync(voters: 3, TimeSpan.FromSeconds(45), learners: 0);
        await cluster.Cache.PutAsync("after", "shrink");
        status = await cluster.WaitForQuiescenceAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(3, status.Replicas.Length);
        Assert.Single(status.Replicas.Select(r => r.StateDigest).Distinct());
        Assert.Equal("growth", await cluster.Cache.GetAsync("before"));
        Assert.Equal("five", await cluster.Cache.GetAsync("during"));
    }
}
