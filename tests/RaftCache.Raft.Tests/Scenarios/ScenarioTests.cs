using System.Text;
using RaftCache.Raft.Tests.Support;

namespace RaftCache.Raft.Tests.Scenarios;

/// <summary>Multi-node scenarios with the default configuration (pre-vote and check-quorum on).</summary>
public class ScenarioTests
{
    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void PreVoteKeepsRejoiningPartitionedNodeFromDisruptingTheLeader()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        var term = net[1].Term;
        net.Isolate(3);
        net.Tick(100);
        Assert.Equal(term, net[3].Term);
        Assert.Equal(StateRole.PreCandidate, net[3].Role);
        net.Heal();
        net.Tick(30);
        Assert.Equal(StateRole.Leader, net[1].Role);
        Assert.Equal(term, net[1].Term);
        Assert.Equal(StateRole.Follower, net[3].Role);
    }

    [Fact]
    public void CheckQuorumStepsDownAnIsolatedLeader()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Isolate(1);

        // The leader checks at the end of each election timeout whether it heard from a quorum during it.
        net.Tick(20);
        Assert.Equal(StateRole.Follower, net[1].Role);
        net.Tick(30);
        var leader = net.Nodes.Single(n => n.Role == StateRole.Leader);
        Assert.NotEqual(1UL, leader.Id);
    }

    [Fact]
    public void DuelingCandidatesEndWithOneLeaderAndOneLog()
    {
        var net = TestNetwork.Create(3);
        net.Cut(1, 3);
        net[1].Node.Campaign();
        net[3].Node.Campaign();
        net.Stabilize();
        Assert.Equal(1, net.Nodes.Count(n => n.Role == StateRole.Leader));
        net.Heal();
        net.Tick(50);
        var leaders = net.Nodes.Where(n => n.Role == StateRole.Leader).ToList();
        var leader = Assert.Single(leaders);
        Assert.True(net.Propose(leader.Id, "x").IsAccepted);
        foreach (var n in net.Nodes) Assert.Equal(["x"], n.AppliedData());
    }

    [Fact]
    public void FollowerForwardsProposalToTheLeader()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        var result = net.Propose(2, "fwd");
        Assert.Equal(ProposeOutcome.Forwarded, result.Outcome);
        Assert.Equal(1UL, result.LeaderHint);
        foreach (var n in net.Nodes) Assert.Equal(["fwd"], n.AppliedData());
    }

    [Fact]
    public void FollowerWithForwardingDisabledAnswersNotLeaderWithHint()
    {
        var net = TestNetwork.Create(3, c => c with { DisableProposalForwarding = true });
        net.Elect(1);
        var result = net.Propose(2, "x");
        Assert.Equal(ProposeOutcome.NotLeader, result.Outcome);
        Assert.Equal(1UL, result.LeaderHint);
        Assert.Empty(net[1].AppliedData());
    }

    [Fact]
    public void ProposalWithoutLeaderIsDropped()
    {
        var net = TestNetwork.Create(3);
        var result = net.Propose(2, "x");
        Assert.Equal(ProposeOutcome.ProposalDropped, result.Outcome);
        Assert.Equal(RaftConfig.None, result.LeaderHint);
    }

    [Fact]
    public void LaggingFollowerRecoversBySnapshotAfterCompaction()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Isolate(3);
        for (var k = 0; k < 10; k++) net.Propose(1, $"v{k}");
        leader.Storage.CreateSnapshot(leader.Applied, null, Bytes("state"));
        leader.Storage.Compact(leader.Applied);
        net.Heal();
        net.Tick(5);
        Assert.Equal(1, net[3].SnapshotsApplied);
        Assert.Equal(leader.Applied, net[3].Applied);
        net.Propose(1, "after");
        Assert.Equal(["after"], net[3].AppliedData());
        Assert.Equal(ProgressState.Replicate, leader.Node.Status.Progress[3].State);
    }

    [Fact]
    public void FailedSnapshotSendReturnsFollowerToProbe()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Isolate(3);
        for (var k = 0; k < 3; k++) net.Propose(1, $"v{k}");
        leader.Storage.CreateSnapshot(leader.Applied, null, Bytes("state"));
        leader.Storage.Compact(leader.Applied);
        net.DropWhen = m => m.Type == MessageType.InstallSnapshot;
        net.Heal();
        net.Tick(3);
        Assert.Equal(ProgressState.Snapshot, leader.Node.Status.Progress[3].State);
        leader.Node.ReportSnapshot(3, success: false);
        Assert.Equal(ProgressState.Probe, leader.Node.Status.Progress[3].State);
        net.DropWhen = null;
        net.Tick(6);
        Assert.Equal(leader.Applied, net[3].Applied);
    }

    [Theory]
    [InlineData(ReadMode.Safe)]
    [InlineData(ReadMode.LeaseBased)]
    public void PartitionedOldLeaderServesNoStaleRead(ReadMode mode)
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Propose(1, "a");
        net.Isolate(1);
        net.Tick(12);
        net[1].ReadStates.Clear();
        net[1].Node.ReadIndex(7, mode);
        net.Stabilize();
        var newLeader = net.Nodes.Single(n => n.Role == StateRole.Leader && n.Id != 1);
        Assert.True(net.Propose(newLeader.Id, "b").IsAccepted);
        net.Tick(30);
        Assert.Empty(net[1].ReadStates);
    }

    [Fact]
    public void LeaderAnswersSafeReadAfterQuorumHeartbeatAndLeaseReadAtOnce()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Propose(1, "a");
        net.Tick(3);
        var delivered = net.Delivered.Count;
        leader.Node.ReadIndex(1, ReadMode.LeaseBased);
        net.Stabilize();
        Assert.Equal(delivered, net.Delivered.Count);
        Assert.Equal(new ReadState(leader.Commit, 1), Assert.Single(leader.ReadStates));

        leader.Node.ReadIndex(2, ReadMode.Safe);
        Assert.DoesNotContain(leader.ReadStates, r => r.RequestId == 2);
        net.Stabilize();
        Assert.Contains(net.Delivered.Skip(delivered), m => m.Type == MessageType.HeartbeatResponse);
        Assert.Contains(new ReadState(leader.Commit, 2), leader.ReadStates);
    }

    [Fact]
    public void LeaseReadFallsBackToSafeWhenLeaseExpired()
    {
        var net = TestNetwork.Create(3, c => c with { HeartbeatTick = 3, ElectionTick = 10 });
        var leader = net.Elect(1);
        net.Tick(3);
        net.DropWhen = m => m.Type == MessageType.HeartbeatResponse;
        for (var k = 0; k < 8; k++) leader.Node.Tick();
        net.Stabilize();
        leader.Node.ReadIndex(5, ReadMode.LeaseBased);
        net.Stabilize();
        Assert.Empty(leader.ReadStates);
        net.DropWhen = null;
        leader.Node.Tick();
        net.Stabilize();
        Assert.Single(leader.ReadStates);
    }

    [Fact]
    public void FollowerReadIndexIsAnsweredThroughTheLeader()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Propose(1, "a");
        Assert.True(net[2].Node.ReadIndex(11));
        net.Stabilize();
        Assert.Equal(new ReadState(net[1].Commit, 11), Assert.Single(net[2].ReadStates));
    }

    [Fact]
    public void NewLeaderQueuesReadsUntilAnEntryOfItsTermCommits()
    {
        var net = TestNetwork.Create(3);
        net.DropWhen = m => m.Type == MessageType.AppendResponse;
        net.Elect(1);
        net[1].Node.ReadIndex(3);
        net.Stabilize();
        Assert.Empty(net[1].ReadStates);
        net.DropWhen = null;
        net.Tick(3);
        Assert.Equal(new ReadState(net[1].Commit, 3), Assert.Single(net[1].ReadStates));
    }

    [Fact]
    public void SingleVoterLeaderAnswersReadAtOnce()
    {
        var net = TestNetwork.Create(1);
        var leader = net.Elect(1);
        leader.Node.ReadIndex(9);
        leader.Drain();
        Assert.Equal(new ReadState(leader.Commit, 9), Assert.Single(leader.ReadStates));
    }

    [Fact]
    public void LeadershipTransfersToUpToDateFollower()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Propose(1, "a");
        net[1].Node.TransferLeader(2);
        net.Stabilize();
        Assert.Equal(StateRole.Leader, net[2].Role);
        Assert.Equal(StateRole.Follower, net[1].Role);
        Assert.True(net.Propose(2, "b").IsAccepted);
        foreach (var n in net.Nodes) Assert.Equal(["a", "b"], n.AppliedData());
    }

    [Fact]
    public void LeadershipTransfersToLaggingFollowerAfterCatchingItUp()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Isolate(3);
        for (var k = 0; k < 5; k++) net.Propose(1, $"v{k}");
        net.Heal();
        net[1].Node.TransferLeader(3);
        Assert.Equal(ProposeOutcome.ProposalDropped, net[1].Node.Propose(Bytes("no")).Outcome);
        net.Stabilize();
        Assert.Equal(StateRole.Leader, net[3].Role);
        Assert.Equal(5, net[3].AppliedData().Count(s => s.StartsWith('v')));
    }

    [Fact]
    public void LeadershipTransferIsAbandonedAfterAnElectionTimeout()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Isolate(3);
        net.Propose(1, "a");
        leader.Node.TransferLeader(3);
        net.Stabilize();
        Assert.Equal(3UL, leader.Node.Status.LeadTransferee);
        Assert.Equal(ProposeOutcome.ProposalDropped, leader.Node.Propose(Bytes("x")).Outcome);
        net.Tick(10);
        Assert.Equal(StateRole.Leader, leader.Role);
        Assert.Equal(RaftConfig.None, leader.Node.Status.LeadTransferee);
        Assert.True(net.Propose(1, "b").IsAccepted);
    }

    [Fact]
    public void TransferLeaderNamingTheLeaderAbortsAPendingTransfer()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Isolate(3);
        net.Propose(1, "a");
        leader.Node.TransferLeader(3);
        net.Stabilize();
        Assert.Equal(3UL, leader.Node.Status.LeadTransferee);
        Assert.Equal(ProposeOutcome.ProposalDropped, leader.Node.Propose(Bytes("dropped")).Outcome);

        leader.Node.TransferLeader(1);

        Assert.Equal(RaftConfig.None, leader.Node.Status.LeadTransferee);
        Assert.Equal(StateRole.Leader, leader.Role);
        var result = net.Propose(1, "b");
        Assert.True(result.IsAccepted);
        Assert.True(leader.Commit >= result.Id.Index);
        Assert.Equal(["a", "b"], leader.AppliedData());
        Assert.Equal(["a", "b"], net[2].AppliedData());
    }

    [Fact]
    public void AFollowerAskingToTransferToTheLeaderAbortsAPendingTransfer()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Isolate(3);
        leader.Node.TransferLeader(3);
        net.Stabilize();
        Assert.Equal(3UL, leader.Node.Status.LeadTransferee);

        net[2].Node.TransferLeader(1);
        net.Stabilize();

        Assert.Equal(RaftConfig.None, leader.Node.Status.LeadTransferee);
        Assert.True(net.Propose(1, "b").IsAccepted);
        Assert.Equal(["b"], net[2].AppliedData());
    }

    [Fact]
    public void TransferToAnotherFollowerReplacesAPendingTransfer()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Isolate(3);
        net.Propose(1, "a");
        net[1].Node.TransferLeader(3);
        net.Stabilize();
        Assert.Equal(3UL, net[1].Node.Status.LeadTransferee);

        net[1].Node.TransferLeader(2);
        net.Stabilize();

        Assert.Equal(StateRole.Leader, net[2].Role);
        Assert.Equal(StateRole.Follower, net[1].Role);
        Assert.True(net.Propose(2, "b").IsAccepted);
        Assert.Equal(["a", "b"], net[1].AppliedData());
    }

    [Fact]
    public void LeaseReadsAfterAnAbortedTransferWaitForAFreshHeartbeatRound()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Propose(1, "a");
        net.Isolate(3);
        net.Propose(1, "b");
        net.Tick(3);
        leader.Node.TransferLeader(3);
        net.Stabilize();
        leader.Node.TransferLeader(1);

        // The transfer voided the lease; a heartbeat round acknowledged after the abort restores it.
        leader.Node.ReadIndex(1, ReadMode.LeaseBased);
        foreach (var m in leader.HandleReady()) net.Send(m);
        Assert.Empty(leader.ReadStates);
        net.Stabilize();
        Assert.Equal(new ReadState(leader.Commit, 1), Assert.Single(leader.ReadStates));

        leader.Node.ReadIndex(2, ReadMode.LeaseBased);
        leader.HandleReady();
        Assert.Contains(new ReadState(leader.Commit, 2), leader.ReadStates);
    }

    [Fact]
    public void LeaseReadsWaitAnElectionTimeoutAfterAnAbortedTransferWhoseTimeoutNowWasSent()
    {
        var net = TestNetwork.Create(3, c => c with { HeartbeatTick = 3, ElectionTick = 10 });
        var leader = net.Elect(1);
        net.Propose(1, "a");
        net.Tick(3);

        // Node 2 is up to date, so TimeoutNow leaves at once; the network holds it back.
        net.DropWhen = m => m.Type == MessageType.TimeoutNow;
        leader.Node.TransferLeader(2);
        net.Stabilize();
        leader.Node.TransferLeader(1);
        Assert.Equal(RaftConfig.None, leader.Node.Status.LeadTransferee);

        // Node 2 may still receive TimeoutNow and win a transfer campaign, which voters grant despite their lease;
        // heartbeat rounds acknowledged meanwhile do not restore the lease until an election timeout has passed.
        for (var k = 1; k < 10; k++)
        {
            net.Tick();
            leader.Node.ReadIndex((ulong)k, ReadMode.LeaseBased);
            leader.HandleReady();
            Assert.DoesNotContain(leader.ReadStates, r => r.RequestId == (ulong)k);
        }

        net.Tick();
        leader.Node.ReadIndex(10, ReadMode.LeaseBased);
        leader.HandleReady();
        Assert.Contains(leader.ReadStates, r => r.RequestId == 10);
    }

    [Fact]
    public void TransferToSelfOrToNonVoterIsIgnored()
    {
        var net = TestNetwork.Create(3, learners: 1);
        var leader = net.Elect(1);
        leader.Node.TransferLeader(1);
        leader.Node.TransferLeader(4);
        leader.Node.TransferLeader(9);
        Assert.Equal(RaftConfig.None, leader.Node.Status.LeadTransferee);
        Assert.True(leader.Node.Propose(Bytes("x")).IsAccepted);
    }

    [Fact]
    public void FullInflightWindowPausesReplicationUntilAcknowledged()
    {
        var net = TestNetwork.Create(3, c => c with { MaxInflightMsgs = 2 });
        var leader = net.Elect(1);
        net.Propose(1, "warm");
        var appendsTo2 = 0;
        net.DropWhen = m =>
        {
            if (m.To == 2 && m.Type == MessageType.Append && !m.Entries.IsEmpty) appendsTo2++;
            return m.To == 2 || m.From == 2;
        };
        for (var k = 0; k < 5; k++) net.Propose(1, $"v{k}");
        Assert.Equal(2, appendsTo2);
        Assert.Equal(2, leader.Node.Status.Progress[2].InflightCount);
        net.DropWhen = null;
        net.Tick(6);
        Assert.Equal(6, net[2].AppliedData().Count());
    }

    [Fact]
    public void ProposalsBetweenTwoReadiesLeaveInOneAppendPerFollower()
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Propose(1, "warm");
        for (var k = 0; k < 100; k++) leader.Node.Propose(Bytes($"v{k}"));
        var appends = leader.HandleReady().Where(m => m.Type == MessageType.Append).ToList();
        Assert.Equal([2UL, 3UL], appends.Select(m => m.To));
        Assert.All(appends, m => Assert.Equal(100, m.Entries.Length));
    }

    [Fact]
    public void MaxSizePerMsgSplitsAppendsIntoBatches()
    {
        var entrySize = new Entry(0, 0, EntryType.Normal, new byte[8]).Size;
        var net = TestNetwork.Create(3, c => c with { MaxSizePerMsg = 3 * entrySize });
        var leader = net.Elect(1);
        net.Propose(1, "warm0000");
        for (var k = 0; k < 10; k++) leader.Node.Propose(new byte[8]);
        var appends = leader.HandleReady().Where(m => m.Type == MessageType.Append && m.To == 2).ToList();
        Assert.Equal([3, 3, 3, 1], appends.Select(m => m.Entries.Length));
    }

    [Fact]
    public void MaxUncommittedEntriesSizeDropsProposals()
    {
        var entrySize = new Entry(0, 0, EntryType.Normal, new byte[8]).Size;
        var net = TestNetwork.Create(3, c => c with { MaxUncommittedEntriesSize = 3 * entrySize });
        var leader = net.Elect(1);
        net.Isolate(1);
        for (var k = 0; k < 3; k++) Assert.True(leader.Node.Propose(new byte[8]).IsAccepted);
        Assert.Equal(ProposeOutcome.ProposalDropped, leader.Node.Propose(new byte[8]).Outcome);
        net.Heal();
        net.Stabilize();
        net.Tick(3);
        Assert.True(leader.Node.Propose(new byte[8]).IsAccepted);
    }

    [Fact]
    public void InvalidConfigurationIsRefusedNamingEachBadSetting()
    {
        var config = new RaftConfig { Id = 0, ElectionTick = 3, HeartbeatTick = 3, MaxInflightMsgs = 0 };
        var e = Assert.Throws<ArgumentException>(() => new RawNode(config, new MemStorage()));
        Assert.Contains(nameof(RaftConfig.Id), e.Message);
        Assert.Contains(nameof(RaftConfig.ElectionTick), e.Message);
        Assert.Contains(nameof(RaftConfig.MaxInflightMsgs), e.Message);
        Assert.DoesNotContain(nameof(RaftConfig.MaxSizePerMsg), e.Message);
    }

    [Fact]
    public void SingleVoterCommitsProposalInTheNextReady()
    {
        var storage = MemStorage.CreateBootstrapped(new ConfState { Voters = [1] });
        var node = new RawNode(new RaftConfig { Id = 1, Random = new Random(1) }, storage);
        node.Campaign();
        var ready = node.GetReady();
        storage.Append(ready.Entries);
        node.Advance(ready);
        Assert.Equal(StateRole.Leader, node.Status.SoftState.Role);
        var result = node.Propose(Bytes("solo"));
        Assert.True(result.IsAccepted);
        ready = node.GetReady();
        Assert.Contains(ready.CommittedEntries, e => e.Id == result.Id);
        Assert.Empty(ready.Messages);
    }

    [Fact]
    public void RestartFromStorageKeepsTermVoteAndLog()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        net.Propose(1, "a");
        net.Propose(1, "b");
        var before = net[2].Node.Status;
        net[2].Restart();
        var after = net[2].Node.Status;
        Assert.Equal(before.HardState, after.HardState);
        Assert.Equal(before.LastIndex, after.LastIndex);
        Assert.Equal(before.Applied, after.Applied);
        Assert.Equal(StateRole.Follower, after.SoftState.Role);
        net.Propose(1, "c");
        Assert.Equal(["a", "b", "c"], net[2].AppliedData());
    }

    [Fact]
    public void DuplicatedAndReorderedMessagesKeepLogsConsistent()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        var replay = new List<Message>();
        net.DropWhen = m =>
        {
            replay.Add(m);
            return false;
        };
        for (var k = 0; k < 20; k++) net.Propose(1, $"v{k}");
        net.DropWhen = null;
        for (var k = replay.Count - 1; k >= 0; k--) net.Send(replay[k]);
        net.Stabilize();
        net.Tick(5);
        foreach (var n in net.Nodes) Assert.Equal(Enumerable.Range(0, 20).Select(k => $"v{k}"), n.AppliedData());
    }
}
