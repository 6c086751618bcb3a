using RaftCache.Raft.Membership;
using static RaftCache.Raft.Tests.Membership.MembershipNotation;

namespace RaftCache.Raft.Tests.Membership;

/// <summary>Membership changes with etcd's ConfChangeV2 semantics. Reference: thesis §4.1 and §4.3.</summary>
public sealed class ConfChangerTests
{
    [Fact]
    public void Bootstrapping_adds_the_first_voter_in_one_step()
    {
        var result = ConfChanger.Apply(MembershipConfig.Empty, Auto(AddVoter(1)));

        Assert.Equal(Config([1]), result);
        Assert.False(result.IsJoint);
    }

    [Fact]
    public void Adding_one_voter_is_a_one_step_change()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Auto(AddVoter(4)));

        Assert.Equal(Config([1, 2, 3, 4]), result);
    }

    [Fact]
    public void Adding_a_learner_leaves_the_voters_unchanged()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Auto(AddLearner(4)));

        Assert.Equal(Config([1, 2, 3], learners: [4]), result);
        Assert.False(result.IsVoter(4));
        Assert.True(result.IsLearner(4));
    }

    [Fact]
    public void Adding_several_learners_at_once_is_still_a_one_step_change_because_no_voter_changes()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Auto(AddLearner(4), AddLearner(5)));

        Assert.Equal(Config([1, 2, 3], learners: [4, 5]), result);
    }

    [Fact]
    public void Promoting_a_learner_makes_it_a_voter_and_no_longer_a_learner()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3], learners: [4]), Auto(AddVoter(4)));

        Assert.Equal(Config([1, 2, 3, 4]), result);
    }

    [Fact]
    public void Demoting_a_voter_in_one_step_makes_it_a_learner_at_once()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Auto(AddLearner(3)));

        Assert.Equal(Config([1, 2], learners: [3]), result);
    }

    [Fact]
    public void Demoting_a_voter_through_a_joint_config_keeps_it_voting_in_the_outgoing_config_until_leaving()
    {
        var joint = ConfChanger.Apply(Config([1, 2, 3]), Explicit(AddLearner(3)));

        Assert.Equal(Config([1, 2], outgoing: [1, 2, 3], learnersNext: [3]), joint);
        Assert.True(joint.IsVoter(3));
        Assert.False(joint.IsLearner(3));

        var left = ConfChanger.Apply(joint, LeaveJoint);

        Assert.Equal(Config([1, 2], learners: [3]), left);
        Assert.False(left.IsVoter(3));
    }

    [Fact]
    public void Removing_a_voter_is_a_one_step_change()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Auto(Remove(3)));

        Assert.Equal(Config([1, 2]), result);
        Assert.False(result.IsMember(3));
    }

    [Fact]
    public void Removing_a_learner_drops_it_from_the_members()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3], learners: [4]), Auto(Remove(4)));

        Assert.Equal(Config([1, 2, 3]), result);
    }

    [Fact]
    public void Removing_a_node_that_is_not_a_member_changes_nothing()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Auto(Remove(9)));

        Assert.Equal(Config([1, 2, 3]), result);
    }

    [Fact]
    public void Adding_an_existing_voter_again_changes_nothing()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Auto(AddVoter(2)));

        Assert.Equal(Config([1, 2, 3]), result);
    }

    [Fact]
    public void Replacing_one_voter_with_another_enters_a_joint_config_that_leaves_itself()
    {
        var joint = ConfChanger.Apply(Config([1, 2, 3]), Auto(AddVoter(4), Remove(3)));

        Assert.Equal(Config([1, 2, 4], outgoing: [1, 2, 3], autoLeave: true), joint);
        Assert.True(joint.IsVoter(3));
        Assert.Equal([1UL, 2, 3, 4], joint.AllMembers.ToArray());

        var left = ConfChanger.Apply(joint, LeaveJoint);

        Assert.Equal(Config([1, 2, 4]), left);
    }

    [Fact]
    public void Joint_implicit_enters_a_joint_config_even_for_a_single_change()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Implicit(AddVoter(4)));

        Assert.Equal(Config([1, 2, 3, 4], outgoing: [1, 2, 3], autoLeave: true), result);
    }

    [Fact]
    public void Joint_explicit_enters_a_joint_config_without_auto_leave()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Explicit(AddVoter(4), AddVoter(5)));

        Assert.Equal(Config([1, 2, 3, 4, 5], outgoing: [1, 2, 3]), result);
        Assert.False(result.AutoLeave);
    }

    [Fact]
    public void Removing_the_leader_by_joint_consensus_keeps_it_voting_in_the_outgoing_config()
    {
        var joint = ConfChanger.Apply(Config([1, 2, 3]), Implicit(Remove(1)));

        Assert.Equal(Config([2, 3], outgoing: [1, 2, 3], autoLeave: true), joint);
        Assert.True(joint.IsVoter(1));
        Assert.Equal(Config([2, 3]), ConfChanger.Apply(joint, LeaveJoint));
    }

    [Fact]
    public void Leaving_a_joint_config_moves_learners_next_into_learners()
    {
        var joint = Config([1, 2, 4], outgoing: [1, 2, 3], learners: [5], learnersNext: [3], autoLeave: true);

        var result = ConfChanger.Apply(joint, LeaveJoint);

        Assert.Equal(Config([1, 2, 4], learners: [3, 5]), result);
    }

    [Fact]
    public void Leaving_ignores_the_transition_of_the_empty_change()
    {
        var joint = Config([1, 2, 4], outgoing: [1, 2, 3]);

        Assert.Equal(Config([1, 2, 4]), ConfChanger.Apply(joint, Explicit()));
    }

    [Fact]
    public void Demoting_and_promoting_back_in_one_joint_change_leaves_the_node_a_voter()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Explicit(AddLearner(3), AddVoter(3), AddVoter(4)));

        Assert.Equal(Config([1, 2, 3, 4], outgoing: [1, 2, 3]), result);
    }

    [Fact]
    public void Adding_a_learner_that_is_not_an_outgoing_voter_while_entering_joint_makes_it_a_learner_at_once()
    {
        var result = ConfChanger.Apply(Config([1, 2, 3]), Implicit(AddVoter(4), AddLearner(5)));

        Assert.Equal(Config([1, 2, 3, 4], outgoing: [1, 2, 3], learners: [5], autoLeave: true), result);
    }

    [Fact]
    public void Changes_apply_in_order()
    {
        Assert.Equal(Config([1, 2, 3]), ConfChanger.Apply(Config([1, 2, 3]), Auto(AddVoter(4), Remove(4))));
        Assert.Equal(Config([1, 2, 3, 4]), ConfChanger.Apply(Config([1, 2, 3]), Auto(Remove(4), AddVoter(4))));
        Assert.Equal(Config([1, 2, 3], learners: [4]), ConfChanger.Apply(Config([1, 2, 3]), Auto(AddVoter(4), AddLearner(4))));
    }

    [Fact]
    public void Validate_returns_null_for_a_valid_change_and_leaves_the_input_untouched()
    {
        var current = Config([1, 2, 3]);

        Assert.Null(ConfChanger.Validate(current, Auto(AddVoter(4))));
        Assert.Equal(Config([1, 2, 3]), current);
    }

    public static TheoryData<string, MembershipConfig, ConfChange, string> InvalidChanges() => new()
    {
        { "adding node 0", Config([1]), Auto(AddVoter(0)), "node 0" },
        { "adding learner 0", Config([1]), Auto(AddLearner(0)), "node 0" },
        { "removing node 0", Config([1]), Auto(Remove(0)), "node 0" },
        { "node 0 among other changes", Config([1, 2, 3]), Explicit(AddVoter(4), Remove(0)), "node 0" },
        { "removing the last voter", Config([1]), Auto(Remove(1)), "removing voter 1 would leave the configuration without voters" },
        { "demoting the last voter", Config([1], learners: [2]), Auto(AddLearner(1)), "removing voter 1 would leave the configuration without voters" },
        { "adding only a learner to an empty config", MembershipConfig.Empty, Auto(AddLearner(1)), "without voters" },
        { "removing every voter through joint", Config([1, 2]), Explicit(Remove(1), Remove(2)), "without voters" },
        { "entering joint while joint", Config([1, 2, 4], outgoing: [1, 2, 3]), Explicit(AddVoter(5)), "already joint" },
        { "entering implicit joint while joint", Config([1, 2, 4], outgoing: [1, 2, 3], autoLeave: true), Implicit(AddVoter(5)), "already joint" },
        { "several voter changes while joint", Config([1, 2, 4], outgoing: [1, 2, 3]), Auto(AddVoter(5), AddVoter(6)), "already joint" },
        { "a simple change while joint", Config([1, 2, 4], outgoing: [1, 2, 3]), Auto(AddVoter(5)), "can't apply simple config change in joint config" },
        { "a learner change while joint", Config([1, 2, 4], outgoing: [1, 2, 3]), Auto(AddLearner(5)), "can't apply simple config change in joint config" },
        { "leaving joint when not joint", Config([1, 2, 3]), LeaveJoint, "can't leave a non-joint config" },
        { "leaving joint in the empty config", MembershipConfig.Empty, LeaveJoint, "can't leave a non-joint config" },
        { "entering joint without voters", MembershipConfig.Empty, Explicit(AddVoter(1), AddVoter(2)), "without voters can't enter a joint configuration" },
        { "an unknown change type", Config([1]), Auto(new ConfChangeSingle((ConfChangeType)9, 2)), "unknown change type 9 for node 2" },
        { "an unknown transition", Config([1]), Change((ConfChangeTransition)7, AddVoter(2)), "unknown conf change transition 7" },
        {
            "a configuration already broken (voter 2 is also a learner)",
            new MembershipConfig { Voters = [1, 2], Learners = [2] }, Auto(AddVoter(3)),
            "node 2 is both a voter and a learner"
        },
    };

    [Theory]
    [MemberData(nameof(InvalidChanges))]
    public void An_invalid_change_is_rejected_with_a_message_naming_the_reason(
        string description, MembershipConfig current, ConfChange change, string expectedMessage)
    {
        var error = ConfChanger.Validate(current, change);
        var exception = Assert.Throws<InvalidConfChangeException>(() => ConfChanger.Apply(current, change));

        Assert.True(error is not null, description);
        Assert.Contains(expectedMessage, error, StringComparison.Ordinal);
        Assert.Equal(error, exception.Message);
    }
}
