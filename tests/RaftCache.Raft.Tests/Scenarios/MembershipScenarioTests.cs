using System.Text;
using RaftCache.Raft.Tests.Support;

namespace RaftCache.Raft.Tests.Scenarios;

/// <summary>Membership changes by joint consensus with learners (thesis §4.3) on a running group.</summary>
public class MembershipScenarioTests
{
    private static ConfChange Change(ConfChangeTransition transition, params (ConfChangeType Type, ulong Id)[] changes) =>
        new() { Transition = transition, Changes = [.. changes.Select(c => new ConfChangeSingle(c.Type, c.Id))] };

    private static ConfChange Change(params (ConfChangeType Type, ulong Id)[] changes) => Change(ConfChangeTransition.Auto, changes);

    private static ProposeResult ProposeChange(TestNetwork net, ulong leader, ConfChange change)
    {
        var result = net[leader].Node.ProposeConfChange(change);
        net.Stabilize();
        net.Tick(3);
        return result;
    }

    [Fact]
    public void VoterAndLearnerAreAddedToRunningGroup()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Propose(1, "a");
        net.AddEmptyNode(4);
        net.AddEmptyNode(5);
        Assert.True(ProposeChange(net, 1, Change((ConfChangeType.AddNode, 4))).IsAccepted);
        Assert.True(ProposeChange(net, 1, Change((ConfChangeType.AddLearnerNode, 5))).IsAccepted);
        net.Propose(1, "b");
        var cs = net[1].Node.Status.ConfState;
        Assert.Equal([1UL, 2, 3, 4], cs.Voters.ToArray());
        Assert.Equal([5UL], cs.Learners.ToArray());
        Assert.Equal(["a", "b"], net[4].AppliedData());
        Assert.Equal(["a", "b"], net[5].AppliedData());
        Assert.Equal(cs, net[5].Node.Status.ConfState);
    }

    [Fact]
    public void LearnerNeverCampaignsAndDoesNotCountTowardQuorum()
    {
        var net = TestNetwork.Create(2, learners: 1);
        net.Elect(1);
        net.Tick(100);
        Assert.Equal(StateRole.Follower, net[3].Role);
        net.Cut(1, 2);
        var result = net[1].Node.Propose(Encoding.UTF8.GetBytes("x"));
        net.Stabilize();
        Assert.True(result.IsAccepted);
        Assert.True(net[1].Commit < result.Id.Index);
        Assert.Equal(result.Id.Index, net[3].Node.Status.LastIndex);
    }

    [Fact]
    public void LearnerIsPromotedAfterCatchingUp()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.AddEmptyNode(4);
        ProposeChange(net, 1, Change((ConfChangeType.AddLearnerNode, 4)));
        for (var k = 0; k < 5; k++) net.Propose(1, $"v{k}");
        Assert.Equal(net[1].Node.Status.LastIndex, net[1].Node.Status.Progress[4].Match);
        Assert.True(ProposeChange(net, 1, Change((ConfChangeType.AddNode, 4))).IsAccepted);
        Assert.Equal([1UL, 2, 3, 4], net[4].Node.Status.ConfState.Voters.ToArray());
        Assert.Empty(net[4].Node.Status.ConfState.Learners);
        net.Isolate(1);
        net.Tick(40);
        Assert.Contains(net.Nodes, n => n.Id != 1 && n.Role == StateRole.Leader);
    }

    [Fact]
    public void FollowerIsRemoved()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        Assert.True(ProposeChange(net, 1, Change((ConfChangeType.RemoveNode, 3))).IsAccepted);
        Assert.Equal([1UL, 2], net[1].Node.Status.ConfState.Voters.ToArray());
        Assert.False(net[1].Node.Status.Progress.ContainsKey(3));
        net.Isolate(3);
        Assert.True(net.Propose(1, "two").IsAccepted);
        Assert.Equal(["two"], net[2].AppliedData());
    }

    [Fact]
    public void LeaderIsRemovedStepsDownAndOthersElectNewLeader()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        var result = net[1].Node.ProposeConfChange(Change((ConfChangeType.RemoveNode, 1)));
        Assert.True(result.IsAccepted);
        net.Stabilize();
        Assert.NotEqual(StateRole.Leader, net[1].Role);
        Assert.Equal([2UL, 3], net[2].Node.Status.ConfState.Voters.ToArray());
        net.Tick(40);
        var leader = net.Nodes.Single(n => n.Role == StateRole.Leader);
        Assert.NotEqual(1UL, leader.Id);
        Assert.True(net.Propose(leader.Id, "after").IsAccepted);
        Assert.Equal(["after"], net[leader.Id == 2 ? 3UL : 2UL].AppliedData());
    }

    /// <summary>
    /// A leader that loses its vote hands leadership to the most up-to-date remaining voter with TimeoutNow instead
    /// of leaving the group leaderless until an election timeout; in a group whose previous configuration had two
    /// voters, merely stepping down could deadlock. Reference: thesis §3.10, §4.2.2.
    /// </summary>
    [Fact]
    public void ARemovedLeaderHandsLeadershipOverWithoutWaitingForAnElectionTimeout()
    {
        var net = TestNetwork.Create(2);
        net.Elect(1);
        net.AddEmptyNode(3);
        Assert.True(ProposeChange(net, 1, Change((ConfChangeType.AddLearnerNode, 3))).IsAccepted);
        net.Stabilize();
        var replace = ProposeChange(net, 1, Change(ConfChangeTransition.JointImplicit, (ConfChangeType.AddNode, 3), (ConfChangeType.RemoveNode, 1)));
        Assert.True(replace.IsAccepted);
        net.Stabilize();

        // No tick has passed: only the handover can have produced the new leader.
        var leader = Assert.Single(net.Nodes, n => n.Role == StateRole.Leader);
        Assert.NotEqual(1UL, leader.Id);
        Assert.NotEqual(StateRole.Leader, net[1].Role);
        Assert.True(net.Propose(leader.Id, "after").IsAccepted);
        net.Stabilize();
        Assert.Equal(["after"], net[leader.Id == 2 ? 3UL : 2UL].AppliedData());
    }

    [Fact]
    public void VoterIsReplacedInOneJointChangeThatLeavesAutomatically()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.AddEmptyNode(4);
        var result = ProposeChange(net, 1, Change((ConfChangeType.AddNode, 4), (ConfChangeType.RemoveNode, 3)));
        Assert.True(result.IsAccepted);
        net.Tick(3);
        foreach (var id in new ulong[] { 1, 2, 4 })
        {
            var cs = net[id].Node.Status.ConfState;
            Assert.False(cs.IsJoint);
            Assert.Equal([1UL, 2, 4], cs.Voters.ToArray());
        }

        Assert.Equal(2, net[1].AppliedEntries.Count(e => e.Type == EntryType.ConfChange));
        net.Remove(3);
        Assert.True(net.Propose(1, "x").IsAccepted);
        Assert.Equal(["x"], net[4].AppliedData());
    }

    [Fact]
    public void NodeAddedFarBehindCatchesUpBySnapshot()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        for (var k = 0; k < 20; k++) net.Propose(1, $"v{k}");
        leader.Storage.CreateSnapshot(leader.Applied, null, Encoding.UTF8.GetBytes("state"));
        leader.Storage.Compact(leader.Applied);
        net.AddEmptyNode(4);
        ProposeChange(net, 1, Change((ConfChangeType.AddNode, 4)));
        Assert.Equal(1, net[4].SnapshotsApplied);
        Assert.Equal("state", Encoding.UTF8.GetString(net[4].Storage.Snapshot(0).Data.Span));
        Assert.Equal(leader.Applied, net[4].Applied);
        Assert.Equal([1UL, 2, 3, 4], net[4].Node.Status.ConfState.Voters.ToArray());
    }

    [Fact]
    public void RemovedNodeThatKeepsCampaigningCannotDisruptTheGroup()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Isolate(3);
        ProposeChange(net, 1, Change((ConfChangeType.RemoveNode, 3)));
        var term = net[1].Term;
        net.Tick(50);
        net.Heal();
        for (var k = 0; k < 10; k++)
        {
            net[3].Node.Campaign();
            net.Tick(5);
        }

        Assert.Equal(StateRole.Leader, net[1].Role);
        Assert.Equal(term, net[1].Term);
        Assert.True(net.Propose(1, "ok").IsAccepted);
        Assert.Equal(["ok"], net[2].AppliedData());
    }

    [Fact]
    public void RestartInTheMiddleOfAJointConfigurationResumes()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.AddEmptyNode(4);
        ProposeChange(net, 1, Change(ConfChangeTransition.JointExplicit, (ConfChangeType.AddNode, 4), (ConfChangeType.RemoveNode, 3)));
        Assert.True(net[1].Node.Status.ConfState.IsJoint);
        foreach (var n in net.Nodes) n.Restart();
        Assert.True(net[2].Node.Status.ConfState.IsJoint);
        net.Tick(40);
        var leader = net.Nodes.Single(n => n.Role == StateRole.Leader);
        Assert.True(ProposeChange(net, leader.Id, new ConfChange()).IsAccepted);
        foreach (var id in new ulong[] { 1, 2, 4 })
        {
            Assert.False(net[id].Node.Status.ConfState.IsJoint);
            Assert.Equal([1UL, 2, 4], net[id].Node.Status.ConfState.Voters.ToArray());
        }
    }

    [Fact]
    public void SecondChangeBeforeTheFirstIsAppliedIsRefused()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        Assert.True(net[1].Node.ProposeConfChange(Change((ConfChangeType.AddLearnerNode, 4))).IsAccepted);
        var second = net[1].Node.ProposeConfChange(Change((ConfChangeType.AddLearnerNode, 5)));
        Assert.Equal(ProposeOutcome.ConfChangePending, second.Outcome);
        net.Stabilize();
        Assert.True(net[1].Node.ProposeConfChange(Change((ConfChangeType.AddLearnerNode, 5))).IsAccepted);
    }

    [Fact]
    public void InvalidChangeIsRefusedWithItsReason()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        var result = net[1].Node.ProposeConfChange(new ConfChange());
        Assert.Equal(ProposeOutcome.InvalidConfChange, result.Outcome);
        Assert.False(string.IsNullOrEmpty(result.Error));
    }
}
