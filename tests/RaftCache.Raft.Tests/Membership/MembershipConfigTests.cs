using RaftCache.Raft.Membership;
using static RaftCache.Raft.Tests.Membership.MembershipNotation;

namespace RaftCache.Raft.Tests.Membership;

public sealed class MembershipConfigTests
{
    [Fact]
    public void ToConfState_writes_sorted_arrays_and_FromConfState_reads_them_back()
    {
        var config = Config([5, 1, 3], outgoing: [3, 1, 4], learners: [9, 7], learnersNext: [4], autoLeave: true);

        var state = config.ToConfState();

        Assert.Equal([1UL, 3, 5], state.Voters.ToArray());
        Assert.Equal([1UL, 3, 4], state.VotersOutgoing.ToArray());
        Assert.Equal([7UL, 9], state.Learners.ToArray());
        Assert.Equal([4UL], state.LearnersNext.ToArray());
        Assert.True(state.AutoLeave);
        Assert.Equal(config, MembershipConfig.FromConfState(state));
    }

    [Fact]
    public void FromConfState_accepts_ids_in_any_order()
    {
        var state = new ConfState { Voters = Ids(3, 1, 2), Learners = Ids(6, 4) };

        var config = MembershipConfig.FromConfState(state);

        Assert.Equal(Config([1, 2, 3], learners: [4, 6]), config);
        Assert.Equal([1UL, 2, 3], config.ToConfState().Voters.ToArray());
    }

    [Fact]
    public void FromConfState_of_the_empty_state_is_the_empty_config()
    {
        Assert.Equal(MembershipConfig.Empty, MembershipConfig.FromConfState(ConfState.Empty));
    }

    public static TheoryData<string, ConfState, string> BrokenStates() => new()
    {
        { "voter and learner", new() { Voters = Ids(1, 2), Learners = Ids(2) }, "node 2 is both a voter and a learner" },
        { "outgoing voter and learner", new() { Voters = Ids(1), VotersOutgoing = Ids(1, 2), Learners = Ids(2) }, "node 2 is both an outgoing voter and a learner" },
        { "learner-next not outgoing", new() { Voters = Ids(1), VotersOutgoing = Ids(1, 2), LearnersNext = Ids(3) }, "node 3 is a learner-next but not an outgoing voter" },
        { "learner-next when not joint", new() { Voters = Ids(1), LearnersNext = Ids(2) }, "node 2 is a learner-next but not an outgoing voter" },
        { "learner-next and incoming voter", new() { Voters = Ids(1, 2), VotersOutgoing = Ids(1, 2), LearnersNext = Ids(2) }, "node 2 is both a learner-next and an incoming voter" },
        { "auto-leave when not joint", new() { Voters = Ids(1), AutoLeave = true }, "auto-leave is set but the configuration is not joint" },
        { "node id 0", new() { Voters = Ids(0, 1) }, "node id 0 is reserved" },
    };

    [Theory]
    [MemberData(nameof(BrokenStates))]
    public void FromConfState_rejects_a_state_that_breaks_an_invariant(string description, ConfState state, string expectedMessage)
    {
        var exception = Assert.Throws<InvalidConfChangeException>(() => MembershipConfig.FromConfState(state));

        Assert.True(exception.Message.Contains(expectedMessage, StringComparison.Ordinal), $"{description}: {exception.Message}");
    }

    [Fact]
    public void Configs_with_the_same_members_are_equal_whatever_the_construction_order()
    {
        var a = Config([1, 2, 3], learners: [4]);
        var b = Config([3, 2, 1], learners: [4]);

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Learners = [5] });
        Assert.NotEqual(Config([1, 2], outgoing: [1, 2, 3]), Config([1, 2], outgoing: [1, 2, 3], autoLeave: true));
        Assert.NotEqual(Config([1, 2], outgoing: [1, 2, 3]), Config([1, 2, 3], outgoing: [1, 2]));
    }

    [Fact]
    public void Quorum_is_computed_once_per_instance()
    {
        var config = Config([1, 2, 3]);

        Assert.Same(config.Quorum, config.Quorum);
        Assert.Same(config.AllMembers, config.AllMembers);
    }

    [Fact]
    public void A_copy_made_with_different_voters_has_its_own_quorum()
    {
        var original = Config([1, 2, 3], learners: [4]);
        _ = original.Quorum;
        _ = original.AllMembers;

        var copy = original with { Voters = [1, 2, 5], VotersOutgoing = [1, 2, 3] };

        Assert.Equal([1UL, 2, 5], copy.Quorum.Incoming.Voters.ToArray());
        Assert.Equal([1UL, 2, 3], copy.Quorum.Outgoing.Voters.ToArray());
        Assert.Equal([1UL, 2, 3, 4, 5], copy.AllMembers.ToArray());
        Assert.Equal([1UL, 2, 3], original.Quorum.Incoming.Voters.ToArray());
        Assert.Equal([1UL, 2, 3, 4], original.AllMembers.ToArray());
    }

    [Fact]
    public void Quorum_reflects_incoming_and_outgoing_voters()
    {
        var config = Config([1, 2, 4], outgoing: [1, 2, 3], learners: [5]);

        Assert.True(config.Quorum.IsJoint);
        Assert.Equal([1UL, 2, 3, 4], config.Quorum.AllVoters.ToArray());
        Assert.True(config.IsVoter(3));
        Assert.False(config.IsVoter(5));
        Assert.Equal([1UL, 2, 3, 4, 5], config.AllMembers.ToArray());
    }

    [Fact]
    public void ToString_uses_the_notation_of_the_thesis_figures()
    {
        var config = Config([1, 2], outgoing: [1, 2, 3], learners: [4], learnersNext: [3], autoLeave: true);

        Assert.Equal("MembershipConfig { voters=(1 2)&&(1 2 3) learners=(4) learners_next=(3) autoleave }", config.ToString());
    }
}
