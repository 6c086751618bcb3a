using RaftCache.Raft.Tests.Support;
using static RaftCache.Raft.Tests.Support.Paper;

namespace RaftCache.Raft.Tests.Paper;

/// <summary>The behaviours of the Raft paper, §5.1 to §5.4, each checked on nodes stepped by hand.</summary>
public class PaperTests
{
    private static readonly byte[] Data = [1, 2, 3];

    /// <summary>A follower that sees a higher term adopts it. Reference: Raft §5.1.</summary>
    [Fact]
    public void FollowerUpdatesTermFromMessage()
    {
        var node = Node(1);
        node.Node.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 5, Index = 1, LogTerm = 1 });
        Assert.Equal(5UL, node.Term);
        Assert.Equal(StateRole.Follower, node.Role);
        Assert.Equal(2UL, node.Node.Status.SoftState.Leader);
    }

    /// <summary>A candidate that sees a higher term adopts it and becomes follower. Reference: Raft §5.1.</summary>
    [Fact]
    public void CandidateUpdatesTermFromMessageAndReturnsToFollower()
    {
        var node = Node(1);
        node.Node.Campaign();
        Assert.Equal(StateRole.Candidate, node.Role);
        node.Node.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 9, Index = 1, LogTerm = 1 });
        Assert.Equal(9UL, node.Term);
        Assert.Equal(StateRole.Follower, node.Role);
    }

    /// <summary>A leader that sees a higher term adopts it and steps down. Reference: Raft §5.1.</summary>
    [Fact]
    public void LeaderUpdatesTermFromMessageAndStepsDown()
    {
        var node = Node(1);
        MakeLeader(node);
        node.Node.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = node.Term + 3 });
        Assert.Equal(StateRole.Follower, node.Role);
        Assert.Equal(5UL, node.Term);
    }

    /// <summary>A message of an older term is rejected and changes nothing. Reference: Raft §5.1.</summary>
    [Fact]
    public void StaleTermMessageIsRejected()
    {
        var node = Node(1, storage: LogStorage(3, 1, 2));
        node.Node.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 3, Index = 1, LogTerm = 1 });
        node.Drain();
        var before = node.Node.Status;
        node.Node.Step(new Message { Type = MessageType.Append, From = 3, To = 1, Term = 2, Index = 3, LogTerm = 2, Commit = 3 });
        var after = node.Node.Status;
        Assert.Equal(before.HardState, after.HardState);
        Assert.Equal(2UL, after.SoftState.Leader);
        Assert.Empty(node.Drain().Of(MessageType.AppendResponse));
    }

    /// <summary>A node starts as follower. Reference: Raft §5.2.</summary>
    [Fact]
    public void NodeStartsAsFollower()
    {
        var node = Node(1);
        Assert.Equal(StateRole.Follower, node.Role);
        Assert.Equal(1UL, node.Term);
    }

    /// <summary>A leader sends heartbeats to every follower each heartbeat interval. Reference: Raft §5.2.</summary>
    [Fact]
    public void LeaderBroadcastsHeartbeatEachInterval()
    {
        var node = Node(1, configure: c => Plain(c) with { HeartbeatTick = 2 });
        MakeLeader(node);
        Tick(node, 2);
        var heartbeats = node.Drain().Of(MessageType.Heartbeat);
        Assert.Equal([2UL, 3UL], heartbeats.Select(m => m.To));
        Assert.All(heartbeats, m => Assert.Equal(node.Term, m.Term));
    }

    /// <summary>A follower that hears nothing for an election timeout becomes candidate. Reference: Raft §5.2.</summary>
    [Fact]
    public void FollowerStartsElectionAfterTimeout() => AssertStartsElection(Node(1), startTerm: 1);

    /// <summary>A candidate whose election times out starts a new one. Reference: Raft §5.2.</summary>
    [Fact]
    public void CandidateStartsNewElectionAfterTimeout()
    {
        var node = Node(1);
        node.Node.Campaign();
        node.Drain();
        AssertStartsElection(node, startTerm: 2);
    }

    private static void AssertStartsElection(TestNode node, ulong startTerm)
    {
        Tick(node, 2 * 10);
        Assert.Equal(StateRole.Candidate, node.Role);
        Assert.Equal(startTerm + 1, node.Term);
        Assert.Equal(1UL, node.Node.Status.HardState.Vote);
        var requests = node.Drain().Of(MessageType.RequestVote);
        Assert.Equal([2UL, 3UL], requests.Select(m => m.To));
        Assert.All(requests, m => Assert.Equal(startTerm + 1, m.Term));
    }

    /// <summary>An election is won, lost or left open by the votes of one round. Reference: Raft §5.2.</summary>
    [Theory]
    [InlineData(1, new ulong[] { }, StateRole.Leader)]
    [InlineData(3, new ulong[] { 2 }, StateRole.Leader)]
    [InlineData(3, new ulong[] { 2, 3 }, StateRole.Leader)]
    [InlineData(3, new ulong[] { }, StateRole.Candidate)]
    [InlineData(5, new ulong[] { 2 }, StateRole.Candidate)]
    [InlineData(5, new ulong[] { 2, 3 }, StateRole.Leader)]
    public void ElectionOutcomeOfOneRound(int voters, ulong[] granted, StateRole expected)
    {
        var node = Node(1, voters, storage: LogStorage(voters));
        node.Node.Campaign();
        node.Drain();
        foreach (var id in granted)
            node.Node.Step(new Message { Type = MessageType.RequestVoteResponse, From = id, To = 1, Term = node.Term });
        Assert.Equal(expected, node.Role);
    }

    /// <summary>A majority of refusals sends the candidate back to follower. Reference: Raft §5.2.</summary>
    [Fact]
    public void CandidateLosesElectionOnMajorityOfRefusals()
    {
        var node = Node(1);
        node.Node.Campaign();
        node.Drain();
        node.Node.Step(new Message { Type = MessageType.RequestVoteResponse, From = 2, To = 1, Term = node.Term, Reject = true });
        node.Node.Step(new Message { Type = MessageType.RequestVoteResponse, From = 3, To = 1, Term = node.Term, Reject = true });
        Assert.Equal(StateRole.Follower, node.Role);
    }

    /// <summary>A node grants at most one vote per term, first come first served. Reference: Raft §5.2.</summary>
    [Theory]
    [InlineData(0UL, 2UL, false)]
    [InlineData(0UL, 3UL, false)]
    [InlineData(2UL, 2UL, false)]
    [InlineData(3UL, 3UL, false)]
    [InlineData(2UL, 3UL, true)]
    [InlineData(3UL, 2UL, true)]
    public void NodeVotesOncePerTerm(ulong votedFor, ulong candidate, bool reject)
    {
        var storage = LogStorage(3);
        storage.SetHardState(new HardState(1, votedFor, 1));
        var node = Node(1, storage: storage);
        node.Node.Step(new Message { Type = MessageType.RequestVote, From = candidate, To = 1, Term = 1, Index = 1, LogTerm = 1 });
        var response = Assert.Single(node.Drain().Of(MessageType.RequestVoteResponse));
        Assert.Equal(reject, response.Reject);
    }

    /// <summary>A candidate that receives an append of its term from a leader returns to follower. Reference: Raft §5.2.</summary>
    [Fact]
    public void CandidateFallsBackToFollowerOnAppendFromLeaderOfItsTerm()
    {
        var node = Node(1);
        node.Node.Campaign();
        node.Drain();
        node.Node.Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = node.Term });
        Assert.Equal(StateRole.Follower, node.Role);
        Assert.Equal(2UL, node.Node.Status.SoftState.Leader);
        Assert.Equal(2UL, node.Term);
    }

    /// <summary>Election timeouts are drawn from [ElectionTick, 2·ElectionTick), taking many values. Reference: Raft §5.2.</summary>
    [Fact]
    public void ElectionTimeoutIsRandomized()
    {
        var seen = new HashSet<int>();
        for (var seed = 0; seed < 200; seed++)
        {
            var node = new TestNode(1, LogStorage(3), Plain, seed);
            var ticks = 0;
            while (node.Role == StateRole.Follower)
            {
                node.Node.Tick();
                ticks++;
            }

            Assert.InRange(ticks, 10, 19);
            seen.Add(ticks);
        }

        Assert.True(seen.Count >= 8, $"only {seen.Count} distinct timeouts");
    }

    /// <summary>Randomized timeouts mostly keep two followers from timing out together. Reference: Raft §5.2.</summary>
    [Fact]
    public void ElectionTimeoutsRarelyConflict()
    {
        var conflicts = 0;
        const int rounds = 1000;
        for (var seed = 0; seed < rounds; seed++)
        {
            var a = new TestNode(1, LogStorage(3), Plain, seed * 2 + 1);
            var b = new TestNode(2, LogStorage(3), Plain, seed * 2 + 2);
            while (a.Role == StateRole.Follower && b.Role == StateRole.Follower)
            {
                a.Node.Tick();
                b.Node.Tick();
            }

            if (a.Role == StateRole.Candidate && b.Role == StateRole.Candidate) conflicts++;
        }

        Assert.True(conflicts <= rounds * 0.2, $"{conflicts} of {rounds} elections conflicted");
    }

    /// <summary>A leader appends a proposal and sends it to every follower. Reference: Raft §5.3.</summary>
    [Fact]
    public void LeaderStartsReplicationOfProposal()
    {
        var node = Node(1);
        MakeLeader(node);
        foreach (var id in new ulong[] { 2, 3 })
            node.Node.Step(new Message { Type = MessageType.AppendResponse, From = id, To = 1, Term = node.Term, Index = 2 });
        node.Drain();
        var result = node.Node.Propose(Data);
        Assert.Equal(new EntryId(node.Term, 3), result.Id);
        var appends = node.Drain().Of(MessageType.Append);
        Assert.Equal([2UL, 3UL], appends.Select(m => m.To));
        Assert.All(appends, m =>
        {
            Assert.Equal(2UL, m.Index);
            Assert.Equal(node.Term, m.LogTerm);
            var e = Assert.Single(m.Entries);
            Assert.Equal(Data, e.Data.ToArray());
        });
    }

    /// <summary>A leader commits an entry once a majority stores it, and tells followers. Reference: Raft §5.3.</summary>
    [Fact]
    public void LeaderCommitsEntryOnceMajorityReplicated()
    {
        var node = Node(1);
        MakeLeader(node);
        node.Node.Propose(Data);
        node.Drain();
        Assert.Equal(1UL, node.Commit);
        node.Node.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = node.Term, Index = 3 });
        Assert.Equal(3UL, node.Commit);
        var messages = node.Drain();
        Assert.Contains(node.AppliedEntries, e => e.Index == 3);
        Assert.Contains(messages, m => m.Type == MessageType.Append && m.To == 2 && m.Commit == 3);
    }

    /// <summary>An entry commits exactly when a majority has acknowledged it, not before. Reference: Raft §5.3.</summary>
    [Theory]
    [InlineData(1, 0, true)]
    [InlineData(3, 0, false)]
    [InlineData(3, 1, true)]
    [InlineData(3, 2, true)]
    [InlineData(5, 1, false)]
    [InlineData(5, 2, true)]
    [InlineData(5, 4, true)]
    public void LeaderCommitsExactlyAtMajorityAcknowledgement(int voters, int acks, bool committed)
    {
        var node = Node(1, voters, storage: LogStorage(voters));
        if (voters == 1) node.Node.Campaign();
        else MakeLeader(node);
        node.Drain();
        node.Node.Propose(Data);
        for (var k = 0; k < acks; k++)
            node.Node.Step(new Message { Type = MessageType.AppendResponse, From = (ulong)k + 2, To = 1, Term = node.Term, Index = 3 });
        node.Drain();
        Assert.Equal(committed ? 3UL : 1UL, node.Commit);
    }

    /// <summary>Committing an entry commits all entries before it, including earlier leaders'. Reference: Raft §5.3.</summary>
    [Fact]
    public void LeaderCommitsPrecedingEntries()
    {
        var node = Node(1, storage: LogStorage(3, 2, 2));
        MakeLeader(node);
        node.Node.Propose(Data);
        node.Drain();
        node.Node.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = node.Term, Index = 5 });
        node.Drain();
        Assert.Equal(5UL, node.Commit);
        Assert.Equal([2UL, 3UL, 4UL, 5UL], node.AppliedEntries.Select(e => e.Index));
    }

    /// <summary>A follower commits and applies what the leader's commit index says. Reference: Raft §5.3.</summary>
    [Fact]
    public void FollowerCommitsEntriesTheLeaderCommitted()
    {
        var node = Node(1);
        var entries = new[] { new Entry(2, 2, EntryType.Normal, Data), new Entry(2, 3, EntryType.Normal, Data) };
        node.Node.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 2, Index = 1, LogTerm = 1, Entries = [.. entries], Commit = 2 });
        node.Drain();
        Assert.Equal(2UL, node.Commit);
        Assert.Equal([2UL], node.AppliedEntries.Select(e => e.Index));
        node.Node.Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = 2, Commit = 3 });
        node.Drain();
        Assert.Equal([2UL, 3UL], node.AppliedEntries.Select(e => e.Index));
    }

    /// <summary>A follower refuses an append whose preceding entry it does not hold. Reference: Raft §5.3.</summary>
    [Theory]
    [InlineData(1UL, 1UL, false)]
    [InlineData(3UL, 2UL, false)]
    [InlineData(2UL, 2UL, false)]
    [InlineData(3UL, 3UL, true)]
    [InlineData(4UL, 2UL, true)]
    public void FollowerChecksConsistencyBeforeAppending(ulong index, ulong logTerm, bool reject)
    {
        var node = Node(1, storage: LogStorage(3, 2, 2));
        node.Node.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 3, Index = index, LogTerm = logTerm });
        var response = Assert.Single(node.Drain().Of(MessageType.AppendResponse));
        Assert.Equal(reject, response.Reject);
        if (reject) Assert.Equal(index, response.Index);
    }

    /// <summary>A follower deletes a conflicting suffix and appends the leader's entries, keeping matching ones. Reference: Raft §5.3.</summary>
    [Fact]
    public void FollowerTruncatesConflictingSuffix()
    {
        var node = Node(1, storage: LogStorage(3, 2, 2, 2));
        var entries = new[] { new Entry(3, 3, EntryType.Normal, Data), new Entry(3, 4, EntryType.Normal, Data) };
        node.Node.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 3, Index = 2, LogTerm = 2, Entries = [.. entries] });
        node.Drain();
        Assert.Equal([2UL, 3UL, 3UL], LogOf(node).Select(e => e.Term));

        // The same append again, or an older one, must not truncate what is there.
        node.Node.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 3, Index = 2, LogTerm = 2, Entries = [entries[0]] });
        node.Drain();
        Assert.Equal([2UL, 3UL, 3UL], LogOf(node).Select(e => e.Term));
    }

    /// <summary>A leader brings each divergent follower log of the paper's Figure 7 to match its own. Reference: Raft §5.3, Figure 7.</summary>
    [Theory]
    [InlineData(new ulong[] { 1, 1, 1, 4, 4, 5, 5, 6, 6 })]
    [InlineData(new ulong[] { 1, 1, 1, 4 })]
    [InlineData(new ulong[] { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6 })]
    [InlineData(new ulong[] { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7 })]
    [InlineData(new ulong[] { 1, 1, 1, 4, 4, 4, 4 })]
    [InlineData(new ulong[] { 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3 })]
    public void LeaderRepairsEachDivergentFollowerLogOfFigure7(ulong[] followerTerms)
    {
        ulong[] leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
        var leaderStorage = LogStorage(3, leaderTerms);
        leaderStorage.SetHardState(new HardState(7, 0, 1));
        var net = TestNetwork.FromStorages(new Dictionary<ulong, MemStorage>
        {
            [1] = leaderStorage,
            [2] = LogStorage(3, followerTerms),
            [3] = LogStorage(3),
        }, Plain);
        net.Elect(1);
        Assert.Equal(8UL, net[1].Term);
        var leaderLog = LogOf(net[1]);
        Assert.Equal(leaderLog.Select(e => e.Id), LogOf(net[2]).Select(e => e.Id));
        Assert.Equal(leaderLog.Select(e => e.Id), LogOf(net[3]).Select(e => e.Id));
        Assert.Equal(leaderLog[^1].Index, net[2].Commit);
    }

    /// <summary>A vote request carries the candidate's last log index and term. Reference: Raft §5.4.1.</summary>
    [Fact]
    public void VoteRequestCarriesLastIndexAndTerm()
    {
        var node = Node(1, storage: LogStorage(3, 2, 3));
        node.Node.Campaign();
        var requests = node.Drain().Of(MessageType.RequestVote);
        Assert.Equal(2, requests.Count);
        Assert.All(requests, m =>
        {
            Assert.Equal(3UL, m.Index);
            Assert.Equal(3UL, m.LogTerm);
        });
    }

    /// <summary>A voter refuses a candidate whose log is less up to date than its own. Reference: Raft §5.4.1.</summary>
    [Theory]
    [InlineData(2UL, 3UL, true)]
    [InlineData(3UL, 3UL, false)]
    [InlineData(4UL, 3UL, false)]
    [InlineData(4UL, 2UL, true)]
    [InlineData(2UL, 2UL, true)]
    [InlineData(5UL, 1UL, true)]
    [InlineData(2UL, 4UL, false)]
    public void VoterRefusesLessUpToDateCandidate(ulong candidateIndex, ulong candidateLogTerm, bool reject)
    {
        var node = Node(1, storage: LogStorage(3, 2, 3));
        node.Node.Step(new Message { Type = MessageType.RequestVote, From = 2, To = 1, Term = 4, Index = candidateIndex, LogTerm = candidateLogTerm });
        var response = Assert.Single(node.Drain().Of(MessageType.RequestVoteResponse));
        Assert.Equal(reject, response.Reject);
    }

    /// <summary>
    /// A leader never commits an entry of an earlier term by counting replicas; only the commit of an entry of its
    /// own term commits it (the Figure 8 problem). Reference: Raft §5.4.2.
    /// </summary>
    [Fact]
    public void LeaderCommitsEarlierTermEntriesOnlyThroughCurrentTermEntry()
    {
        var node = Node(1, storage: LogStorage(3, 2, 2));
        MakeLeader(node);
        var term = node.Term;
        Assert.Equal(4UL, node.Node.Status.LastIndex);

        // A follower holding the earlier-term entries, but not the new empty entry, is not enough.
        node.Node.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = term, Index = 3 });
        node.Drain();
        Assert.Equal(1UL, node.Commit);

        // Once the current-term entry is on a majority, everything before it commits.
        node.Node.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = term, Index = 4 });
        node.Drain();
        Assert.Equal(4UL, node.Commit);
    }
}
