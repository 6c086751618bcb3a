using RaftCache.Raft.Tests.Support;

namespace RaftCache.Raft.Tests.Scenarios;

/// <summary>
/// Messages no correct peer sends are refused with <see cref="MalformedMessageException"/> before the node changes
/// anything, and the node keeps working; they never reach the invariant checks, which are about the node's own state.
/// </summary>
public class MalformedMessageTests
{
    private static readonly byte[] Payload = [7];

    /// <summary>The group every shape is sent to: leader 1 at <see cref="Term"/>, every log ending at <see cref="Last"/>.</summary>
    private sealed record Group(ulong Term, ulong Last);

    /// <summary>Everything a peer message could change that <see cref="Status"/> shows.</summary>
    private sealed record Observed(
        HardState HardState, SoftState SoftState, ulong LastIndex, ulong Applied, ConfState ConfState, ulong LeadTransferee, string Progress);

    private sealed record Shape(ulong Target, Func<Group, Message> Build, string Expected);

    private static Entry E(ulong term, ulong index, EntryType type = EntryType.Normal) => new(term, index, type, Payload);

    private static ConfState Voters123 => new() { Voters = [1, 2, 3] };

    private static Snapshot SnapshotAt(ulong index, ulong term, ConfState? confState = null) =>
        new(new SnapshotMetadata(index, term, confState ?? Voters123), Payload);

    // Sent by the leader (1) to a follower (2) unless the shape says otherwise.
    private static Message FromLeader(Group g, MessageType type) => new() { Type = type, From = 1, To = 2, Term = g.Term };

    private static Message AppendAfterLast(Group g, params Entry[] entries) =>
        FromLeader(g, MessageType.Append) with { Index = g.Last, LogTerm = g.Term, Entries = [.. entries], Commit = g.Last };

    private static readonly Dictionary<string, Shape> Shapes = new()
    {
        ["InstallSnapshot without a snapshot"] = new(2, g => FromLeader(g, MessageType.InstallSnapshot), "no snapshot"),
        ["InstallSnapshot without metadata"] = new(2, g => FromLeader(g, MessageType.InstallSnapshot) with { Snapshot = new Snapshot(null!, Payload) }, "no metadata"),
        ["InstallSnapshot of the empty snapshot"] = new(2, g => FromLeader(g, MessageType.InstallSnapshot) with { Snapshot = Snapshot.Empty }, "index 0"),
        ["InstallSnapshot of a snapshot of term 0"] = new(2, g => FromLeader(g, MessageType.InstallSnapshot) with { Snapshot = SnapshotAt(g.Last + 5, 0) }, "snapshot has term 0"),
        ["InstallSnapshot of a snapshot from a later term"] = new(2, g => FromLeader(g, MessageType.InstallSnapshot) with { Snapshot = SnapshotAt(g.Last + 5, g.Term + 1) }, "outside [1, "),
        ["InstallSnapshot of a snapshot at the largest index"] = new(2, g => FromLeader(g, MessageType.InstallSnapshot) with { Snapshot = SnapshotAt(ulong.MaxValue, g.Term) }, "no room for a next index"),
        ["InstallSnapshot of a snapshot without a configuration"] = new(2, g => FromLeader(g, MessageType.InstallSnapshot) with { Snapshot = new Snapshot(new SnapshotMetadata(g.Last + 5, g.Term, null!), Payload) }, "no configuration"),
        ["InstallSnapshot of a snapshot with an invalid configuration"] = new(2, g => FromLeader(g, MessageType.InstallSnapshot) with { Snapshot = SnapshotAt(g.Last + 5, g.Term, Voters123 with { Learners = [3] }) }, "both a voter and a learner"),
        ["Append without a term"] = new(2, g => AppendAfterLast(g, E(g.Term, g.Last + 1)) with { Term = 0 }, "carries no term"),
        ["Append whose entries leave a gap after its index"] = new(2, g => AppendAfterLast(g, E(g.Term, g.Last + 2)), "does not follow"),
        ["Append whose entries are not contiguous"] = new(2, g => AppendAfterLast(g, E(g.Term, g.Last + 1), E(g.Term, g.Last + 3)), "does not follow"),
        ["Append whose entries start at its index"] = new(2, g => AppendAfterLast(g, E(g.Term, g.Last), E(g.Term, g.Last + 1)), "does not follow"),
        ["Append whose indexes overflow"] = new(2, g => AppendAfterLast(g, E(g.Term, 0)) with { Index = ulong.MaxValue }, "overflow"),
        ["Append of an entry from a later term"] = new(2, g => AppendAfterLast(g, E(g.Term + 1, g.Last + 1)), "outside [1, "),
        ["Append of an entry of term 0"] = new(2, g => AppendAfterLast(g, E(0, g.Last + 1)), "has term 0"),
        ["Append whose entry terms decrease"] = new(2, g => AppendAfterLast(g, E(g.Term, g.Last + 1), E(g.Term - 1, g.Last + 2)), "below"),
        ["Append whose first entry is older than the entry before it"] = new(2, g => AppendAfterLast(g, E(g.Term - 1, g.Last + 1)), "below"),
        ["Append whose previous entry is from a later term"] = new(2, g => AppendAfterLast(g) with { LogTerm = g.Term + 1 }, "log term"),
        ["Append of an entry of an unknown type"] = new(2, g => AppendAfterLast(g, E(g.Term, g.Last + 1, (EntryType)7)), "unknown entry type 7"),
        ["Append without an entry list"] = new(2, g => AppendAfterLast(g) with { Entries = default }, "entry list"),
        ["Heartbeat without a term"] = new(2, g => FromLeader(g, MessageType.Heartbeat) with { Term = 0, Commit = g.Last }, "carries no term"),
        ["TimeoutNow without a term"] = new(2, g => FromLeader(g, MessageType.TimeoutNow) with { Term = 0 }, "carries no term"),
        ["ReadIndexResponse without a term"] = new(2, g => FromLeader(g, MessageType.ReadIndexResponse) with { Term = 0, Index = g.Last, Context = 5 }, "carries no term"),
        ["RequestVote without a term"] = new(2, g => new Message { Type = MessageType.RequestVote, From = 3, To = 2, Index = g.Last, LogTerm = g.Term }, "carries no term"),
        ["RequestVoteResponse without a term"] = new(2, g => new Message { Type = MessageType.RequestVoteResponse, From = 3, To = 2 }, "carries no term"),
        ["RequestPreVote whose last log term is above its term"] = new(2, g => new Message { Type = MessageType.RequestPreVote, From = 3, To = 2, Term = g.Term + 1, Index = g.Last, LogTerm = g.Term + 2 }, "log term"),
        ["message without a sender"] = new(2, g => FromLeader(g, MessageType.Heartbeat) with { From = RaftConfig.None }, "sender"),
        ["message addressed to another node"] = new(2, g => FromLeader(g, MessageType.Heartbeat) with { To = 3 }, "addressed to 3"),
        ["message of a term no entry can carry"] = new(2, g => FromLeader(g, MessageType.Heartbeat) with { Term = Entry.MaxTerm + 1 }, "largest term"),
        ["local message type"] = new(2, g => FromLeader(g, MessageType.Hup), "local message type"),
        ["unknown message type"] = new(2, g => FromLeader(g, (MessageType)99), "unknown message type"),
        ["forwarded proposal of an unknown entry type"] = new(1, g => new Message { Type = MessageType.Propose, From = 2, To = 1, Entries = [new Entry(0, 0, (EntryType)9, Payload)] }, "unknown entry type 9"),
        ["forwarded read of an unknown read mode"] = new(1, g => new Message { Type = MessageType.ReadIndex, From = 2, To = 1, Context = 3, ReadMode = (ReadMode)5 }, "unknown read mode 5"),
        ["AppendResponse acknowledging entries the leader does not have"] = new(1, g => new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = g.Term, Index = g.Last + 10 }, "ends at"),
        ["AppendResponse rejecting an index the leader does not have"] = new(1, g => new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = g.Term, Index = g.Last + 10, Reject = true, RejectHint = g.Last }, "ends at"),
        ["AppendResponse rejection hinting above the rejected index"] = new(1, g => new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = g.Term, Index = g.Last - 1, Reject = true, RejectHint = g.Last }, "hint"),
    };

    public static TheoryData<string> ShapeNames() => new(Shapes.Keys);

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public void MalformedMessageIsRefusedWithoutChangingTheNodeWhichKeepsWorking(string shape)
    {
        var net = TestNetwork.Create(3);
        var leader = net.Elect(1);
        net.Propose(1, "a");
        var group = new Group(leader.Term, leader.Node.Status.LastIndex);
        Assert.True(group.Term >= 2, "the shapes need an earlier term than the leader's");
        var (targetId, build, expected) = Shapes[shape];
        var target = net[targetId];
        var before = Observe(target.Node);

        var e = Assert.Throws<MalformedMessageException>(() => target.Node.Step(build(group)));

        Assert.Equal("message", e.ParamName);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Observe(target.Node));
        Assert.False(target.Node.HasReady);
        Assert.True(net.Propose(1, "b").IsAccepted);
        foreach (var n in net.Nodes) Assert.Equal(["a", "b"], n.AppliedData());
    }

    [Fact]
    public void MalformedMessageExceptionIsAnArgumentExceptionAndNoInvariantBreak()
    {
        var net = TestNetwork.Create(3);
        net.Elect(1);
        var step = () => net[2].Node.Step(new Message { Type = MessageType.InstallSnapshot, From = 1, To = 2, Term = net[1].Term });

        var e = Assert.ThrowsAny<ArgumentException>(step);

        Assert.IsType<MalformedMessageException>(e);
        Assert.Contains("InstallSnapshot", e.Message, StringComparison.Ordinal);
        Assert.Contains("from 1", e.Message, StringComparison.Ordinal);
    }

    private static Observed Observe(RawNode node)
    {
        var s = node.Status;
        var progress = string.Join(", ", s.Progress.Select(p => $"{p.Key}: {p.Value}"));
        return new Observed(s.HardState, s.SoftState, s.LastIndex, s.Applied, s.ConfState, s.LeadTransferee, progress);
    }
}
