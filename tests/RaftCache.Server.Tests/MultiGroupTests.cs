using System.Text;

namespace RaftCache.Server.Tests;

/// <summary>
/// The keyspace sharded over many Raft groups: replicas and leaders spread over the silos within the bounds placement
/// states (docs/design.md, "Groups and placement"), groups recover from a lost silo and spread onto new ones, and each
/// silo holds only its share of the keys.
/// </summary>
[Collection(ClusterCollection.Name)]
public class MultiGroupTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);

    /// <summary>At most the even share ⌈groups × voters ÷ silos⌉ of replicas per silo.</summary>
    private static int MostReplicas(int groups, int voters, int silos) => (int)Math.Ceiling((double)groups * voters / silos);

    /// <summary>At most one group over the even share ⌈groups ÷ silos⌉ led per silo.</summary>
    private static int MostLed(int groups, int silos) => (int)Math.Ceiling((double)groups / silos) + 1;

    [Fact]
    public async Task SixteenGroupsSpreadOverFiveSilosRecoverFromALostSiloAndSpreadOntoNewOnes()
    {
        const int Groups = 16, Voters = 3;
        await using var cluster = await CacheCluster.StartAsync(5, options => options.Groups = Groups);
        await cluster.WaitForStableGroupAsync(Voters, Settle, learners: 0, groups: Groups);
        await AssertSpreadAsync(cluster, Groups, Voters, silos: 5);

        var keys = Enumerable.Range(0, 400).Select(i => $"key:{i}").ToList();
        var layout = (await cluster.Facade.GetLimits()).Layout!;
        Assert.Equal(Groups, layout.Groups);
        Assert.Equal(Groups, keys.Select(k => layout.GroupOf(Encoding.UTF8.GetBytes(k))).Distinct().Count());
        await Task.WhenAll(keys.Select(k => cluster.Cache.PutAsync(k, "v:" + k)));

        // A killed silo held replicas, and probably leaders, of several groups: each of them recovers on its own.
        var victim = cluster.Cluster.GetActiveSilos().ElementAt(2);
        await cluster.Cluster.KillSiloAsync(victim);
        await cluster.WaitForStableGroupAsync(Voters, Settle, learners: 0, groups: Groups);
        await AssertSpreadAsync(cluster, Groups, Voters, silos: 4);
        foreach (var key in keys) Assert.Equal("v:" + key, await cluster.Cache.GetAsync(key));

        // New silos take replicas over, as learners first, then voters.
        var added = new[] { await cluster.Cluster.StartAdditionalSiloAsync(), await cluster.Cluster.StartAdditionalSiloAsync() };
        await cluster.WaitForStableGroupAsync(Voters, Settle, learners: 0, groups: Groups);
        var status = await AssertSpreadAsync(cluster, Groups, Voters, silos: 6);
        foreach (var silo in added)
            Assert.Contains(status.Replicas, r => r.Silo == silo.SiloAddress.ToString());

        status = await cluster.WaitForQuiescenceAsync(Settle);
        foreach (var group in status.Groups)
            Assert.Single(status.Replicas.Where(r => r.Group == group).Select(r => r.StateDigest).Distinct());
        foreach (var key in keys) Assert.Equal("v:" + key, await cluster.Cache.GetAsync(key));
        Assert.Equal(keys.Count, status.Groups.Sum(g => status.LeaderOf(g)!.EntryCount));
    }

    [Fact]
    public async Task WithSixSilosThreeVotersAndTwelveGroupsEachSiloHoldsAboutHalfOfTheKeys()
    {
        const int Groups = 12, Voters = 3, Silos = 6, Keys = 3000;
        await using var cluster = await CacheCluster.StartAsync(Silos, options => options.Groups = Groups);
        await cluster.WaitForStableGroupAsync(Voters, Settle, learners: 0, groups: Groups);
        var keys = Enumerable.Range(0, Keys).Select(i => $"item:{i}").ToList();
        for (var start = 0; start < Keys; start += 500)
            await Task.WhenAll(keys.Skip(start).Take(500).Select(k => cluster.Cache.PutAsync(k, "x")));

        var status = await cluster.WaitForQuiescenceAsync(Settle);
        var perSilo = status.Replicas.GroupBy(r => r.Silo).ToDictionary(g => g.Key, g => g.Sum(r => r.EntryCount));
        Assert.Equal(Silos, perSilo.Count);
        Assert.Equal((long)Keys * Voters, perSilo.Values.Sum());
        // Each silo holds 6 of the 12 groups (placement's bound: ⌈12 × 3 ÷ 6⌉), and a group about 1/12 of the keys
        // (the slots split evenly; hashing leaves a few percent of variation at this size): about half of the keys.
        Assert.All(perSilo, silo => Assert.True(silo.Value is >= (long)(Keys * 0.4) and <= (long)(Keys * 0.6), $"{silo.Key} holds {silo.Value} of {Keys} keys."));

        // Clear reaches every group.
        await cluster.Cache.ClearAsync();
        foreach (var key in keys.Take(100)) Assert.Null(await cluster.Cache.GetAsync(key));
        status = await cluster.WaitForQuiescenceAsync(Settle);
        Assert.All(status.Replicas, r => Assert.Equal(0L, r.EntryCount));
    }

    /// <summary>
    /// Asserts the replica bound at once, and waits (with a deadline) for the leader bound: leadership moves to the
    /// preferred leaders by transfer, a few membership checks after the groups settle.
    /// </summary>
    private static async Task<ClusterStatus> AssertSpreadAsync(CacheCluster cluster, int groups, int voters, int silos)
    {
        var status = await cluster.StatusAsync();
        var replicas = status.Replicas.GroupBy(r => r.Silo).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(silos, replicas.Count);
        Assert.Equal(groups * voters, replicas.Values.Sum());
        Assert.All(replicas, silo => Assert.True(silo.Value <= MostReplicas(groups, voters, silos),
            $"{silo.Key} holds {silo.Value} replicas; the bound is {MostReplicas(groups, voters, silos)}.{Environment.NewLine}{CacheCluster.Describe(status)}"));

        ClusterStatus? last = null;
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                var current = last = await cluster.StatusAsync();
                var leaders = current.Groups.Select(current.LeaderOf).ToList();
                if (current.Groups.Length != groups || leaders.Any(l => l is null)) return false;
                return leaders.GroupBy(l => l!.Silo).All(g => g.Count() <= MostLed(groups, silos));
            }, Settle, $"every silo to lead at most {MostLed(groups, silos)} of {groups} groups");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + Environment.NewLine + CacheCluster.Describe(last), e);
        }

        return last!;
    }
}
