using System.Text;
using RaftCache.Server.Host;

namespace RaftCache.Server.Tests;

/// <summary>Keys to slots to groups, and the replica service's check that a request names its key's group.</summary>
public class LayoutTests
{
    [Fact]
    public void SlotsSplitIntoEqualContiguousRangesOfGroups()
    {
        var layout = new ClusterLayout(Guid.NewGuid(), 4096, 12);
        var groups = Enumerable.Range(0, layout.Slots).Select(layout.GroupOfSlot).ToList();
        Assert.Equal(Enumerable.Range(0, 12), groups.Distinct());
        Assert.True(groups.SequenceEqual(groups.Order()), "ranges are contiguous");
        Assert.All(groups.GroupBy(g => g), g => Assert.InRange(g.Count(), 341, 342));
    }

    [Fact]
    public void AKeysGroupDependsOnItsBytesAndTheNumberOfGroupsOnly()
    {
        var a = new ClusterLayout(Guid.NewGuid(), 4096, 8);
        var b = new ClusterLayout(Guid.NewGuid(), 4096, 8);
        var keys = Enumerable.Range(0, 1000).Select(i => Encoding.UTF8.GetBytes($"user:{i}")).ToList();
        Assert.All(keys, k => Assert.Equal(a.GroupOf(k), b.GroupOf(k)));
        // A uniform hash: each of the 8 groups gets 125 of 1,000 keys, give or take a few standard deviations (10.5).
        Assert.All(keys.GroupBy(k => a.GroupOf(k)), g => Assert.InRange(g.Count(), 80, 170));
    }

    [Fact]
    public void ARequestForAnotherGroupThanItsKeysIsRefused()
    {
        var layout = new ClusterLayout(Guid.NewGuid(), 4096, 4);
        var key = Encoding.UTF8.GetBytes("k");
        var group = layout.GroupOf(key);
        Assert.Null(RaftHostService.CheckGroup(layout, new CacheRequest { Operation = CacheOperation.Get, Key = key, Group = group }));
        var wrong = RaftHostService.CheckGroup(layout, new CacheRequest { Operation = CacheOperation.Get, Key = key, Group = (group + 1) % 4 });
        Assert.Equal(CacheStatusCode.InvalidArgument, wrong?.Status);
        var missing = RaftHostService.CheckGroup(layout, new CacheRequest { Operation = CacheOperation.Clear, Group = 4 });
        Assert.Equal(CacheStatusCode.InvalidArgument, missing?.Status);
        Assert.Contains("does not exist", missing!.Message, StringComparison.Ordinal);
        Assert.Null(RaftHostService.CheckGroup(layout, new CacheRequest { Operation = CacheOperation.Clear, Group = 3 }));
    }
}
