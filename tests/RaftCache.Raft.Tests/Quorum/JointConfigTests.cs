using RaftCache.Raft.Quorum;
using static RaftCache.Raft.Tests.Quorum.QuorumNotation;

namespace RaftCache.Raft.Tests.Quorum;

/// <summary>Joint consensus needs separate majorities of both configurations. Reference: thesis §4.3.</summary>
public sealed class JointConfigTests
{
    [Theory]
    [InlineData("", "", "", ulong.MaxValue)]
    [InlineData("1 2 3", "", "1=5 2=6 3=7", 6UL)]
    [InlineData("1 2 3", "1 2 3", "1=5 2=6 3=7", 6UL)]
    // The outgoing majority lags: it holds the commit back.
    [InlineData("1 2 3", "4 5 6", "1=10 2=10 3=10 4=1 5=2 6=3", 2UL)]
    // The incoming majority lags.
    [InlineData("1 2 3", "4 5 6", "1=1 2=2 3=3 4=10 5=10 6=10", 2UL)]
    // Overlapping configurations: 1 and 2 are a majority of the incoming one, but only 3 counts for the outgoing one.
    [InlineData("1 2 3", "3 4 5", "1=10 2=10", 0UL)]
    [InlineData("1 2 3", "3 4 5", "1=10 2=10 3=7 4=8", 7UL)]
    // Replacing one voter (thesis §4.3's typical use): 4 replaces 3.
    [InlineData("1 2 4", "1 2 3", "1=9 2=9 3=9", 9UL)]
    [InlineData("1 2 4", "1 2 3", "1=9 3=9 4=9", 9UL)]
    [InlineData("1 2 4", "1 2 3", "1=9 2=9", 9UL)]
    // The new voter does not help the outgoing majority, nor the removed one the incoming majority.
    [InlineData("1 2 4", "1 2 3", "1=9 4=9", 0UL)]
    [InlineData("1 2 4", "1 2 3", "1=9 3=9", 0UL)]
    public void CommittedIndex_is_the_minimum_of_both_majorities(string incoming, string outgoing, string acks, ulong expected)
    {
        Assert.Equal(expected, Joint(incoming, outgoing).CommittedIndex(Acks(acks)));
    }

    [Theory]
    [InlineData("", "", "", VoteResult.Won)]
    [InlineData("1 2 3", "", "1=y 2=y", VoteResult.Won)]
    [InlineData("1 2 3", "", "1=n 2=n", VoteResult.Lost)]
    [InlineData("1 2 3", "", "1=y", VoteResult.Pending)]
    [InlineData("1 2 3", "4 5 6", "", VoteResult.Pending)]
    // Won in the incoming configuration only.
    [InlineData("1 2 3", "4 5 6", "1=y 2=y", VoteResult.Pending)]
    [InlineData("1 2 3", "4 5 6", "1=y 2=y 4=y", VoteResult.Pending)]
    // Won in both.
    [InlineData("1 2 3", "4 5 6", "1=y 2=y 4=y 5=y", VoteResult.Won)]
    // Won in one, lost in the other.
    [InlineData("1 2 3", "4 5 6", "1=y 2=y 4=n 5=n", VoteResult.Lost)]
    [InlineData("1 2 3", "4 5 6", "1=n 2=n 4=y 5=y", VoteResult.Lost)]
    // Lost in one, pending in the other.
    [InlineData("1 2 3", "4 5 6", "1=n 2=n", VoteResult.Lost)]
    [InlineData("1 2 3", "4 5 6", "4=n 5=n", VoteResult.Lost)]
    // A shared voter counts in both.
    [InlineData("1 2 3", "3 4 5", "1=y 3=y", VoteResult.Pending)]
    [InlineData("1 2 3", "3 4 5", "1=y 3=y 4=y", VoteResult.Won)]
    [InlineData("1 2 3", "3 4 5", "3=n 4=n", VoteResult.Lost)]
    // The voter being removed still has to be outvoted in the outgoing configuration.
    [InlineData("1 2", "1 2 3", "1=y 2=n 3=y", VoteResult.Lost)]
    [InlineData("1 2", "1 2 3", "1=y 2=y", VoteResult.Won)]
    public void VoteResult_needs_both_majorities_to_win_and_loses_when_either_is_lost(
        string incoming, string outgoing, string votes, VoteResult expected)
    {
        Assert.Equal(expected, Joint(incoming, outgoing).VoteResult(Votes(votes)));
    }

    [Fact]
    public void AllVoters_merges_both_configurations_sorted_without_duplicates()
    {
        var joint = Joint("5 1 3", "4 3 2");

        Assert.Equal([1UL, 2, 3, 4, 5], joint.AllVoters.ToArray());
        Assert.True(joint.IsJoint);
        Assert.True(joint.IsVoter(1));
        Assert.True(joint.IsVoter(2));
        Assert.False(joint.IsVoter(6));
        Assert.Equal("(1 3 5)&&(2 3 4)", joint.ToString());
    }

    [Fact]
    public void A_config_with_an_empty_outgoing_side_is_not_joint()
    {
        var config = Joint("1 2 3", "");

        Assert.False(config.IsJoint);
        Assert.Equal([1UL, 2, 3], config.AllVoters.ToArray());
        Assert.Equal("(1 2 3)", config.ToString());
    }
}
