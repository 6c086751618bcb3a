using RaftCache.Raft.Tests.Support;

namespace RaftCache.Raft.Tests.Scenarios;

public class SmokeTests
{
    [Fact]
    public void ThreeNodesElectAndReplicate()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        var r = net.Propose(1, "a");
        Assert.True(r.IsAccepted);
        foreach (var n in net.Nodes) Assert.Equal(["a"], n.AppliedData());
        Assert.Equal(leader.Commit, net[2].Commit);
    }
}
