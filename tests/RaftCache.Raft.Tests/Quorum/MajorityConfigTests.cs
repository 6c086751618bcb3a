using RaftCache.Raft.Quorum;
using static RaftCache.Raft.Tests.Quorum.QuorumNotation;

namespace RaftCache.Raft.Tests.Quorum;

/// <summary>Commitment and elections by simple majority. Reference: Raft §5.2, §5.3.</summary>
public sealed class MajorityConfigTests
{
    [Theory]
    // The empty configuration commits everything, so it never holds back the other half of a joint configuration.
    [InlineData("", "", ulong.MaxValue)]
    [InlineData("", "1=5", ulong.MaxValue)]
    // One voter: its own index.
    [InlineData("1", "", 0UL)]
    [InlineData("1", "1=5", 5UL)]
    // Two voters: both are needed.
    [InlineData("1 2", "1=5", 0UL)]
    [InlineData("1 2", "1=5 2=7", 5UL)]
    [InlineData("1 2", "1=7 2=5", 5UL)]
    // Three voters: the second largest.
    [InlineData("1 2 3", "", 0UL)]
    [InlineData("1 2 3", "1=5", 0UL)]
    [InlineData("1 2 3", "1=5 2=6", 5UL)]
    [InlineData("1 2 3", "1=5 2=6 3=7", 6UL)]
    [InlineData("1 2 3", "1=7 2=6 3=5", 6UL)]
    [InlineData("1 2 3", "2=8 3=9", 8UL)]
    [InlineData("1 2 3", "1=5 2=5", 5UL)]
    [InlineData("1 2 3", "1=5 2=5 3=5", 5UL)]
    [InlineData("1 2 3", "1=0 2=0 3=9", 0UL)]
    // Four voters: three are needed.
    [InlineData("1 2 3 4", "1=1 2=2 3=3 4=4", 2UL)]
    [InlineData("1 2 3 4", "1=4 2=4", 0UL)]
    [InlineData("1 2 3 4", "1=4 2=4 3=4", 4UL)]
    [InlineData("1 2 3 4", "1=9 2=8 3=7 4=6", 7UL)]
    // Five voters: three are needed.
    [InlineData("1 2 3 4 5", "1=1 2=2 3=3 4=4 5=5", 3UL)]
    [InlineData("1 2 3 4 5", "1=5 2=5", 0UL)]
    [InlineData("1 2 3 4 5", "1=5 2=4 3=3", 3UL)]
    [InlineData("1 2 3 4 5", "1=100 2=100 3=1 4=1 5=1", 1UL)]
    [InlineData("1 2 3 4 5", "3=7 4=7 5=7", 7UL)]
    [InlineData("1 2 3 4 5", "1=2 2=2 3=2 4=2 5=2", 2UL)]
    // Seven voters: four are needed (the largest configuration sorted on the stack).
    [InlineData("1 2 3 4 5 6 7", "1=1 2=2 3=3 4=4 5=5 6=6 7=7", 4UL)]
    [InlineData("1 2 3 4 5 6 7", "1=10 2=10 3=10", 0UL)]
    [InlineData("1 2 3 4 5 6 7", "1=10 2=10 3=10 4=10", 10UL)]
    // Nine voters: five are needed (sorted in a pooled buffer).
    [InlineData("1 2 3 4 5 6 7 8 9", "1=1 2=2 3=3 4=4 5=5 6=6 7=7 8=8 9=9", 5UL)]
    [InlineData("1 2 3 4 5 6 7 8 9", "1=9 2=8 3=7 4=6 5=5 6=4 7=3 8=2 9=1", 5UL)]
    [InlineData("1 2 3 4 5 6 7 8 9", "1=10 2=10 3=10 4=10", 0UL)]
    [InlineData("1 2 3 4 5 6 7 8 9", "1=10 2=10 3=10 4=10 5=10", 10UL)]
    // Acknowledgements of non-voters (learners, removed nodes) do not count.
    [InlineData("1 2 3", "1=5 4=9 5=9", 0UL)]
    [InlineData("1 2 3", "1=5 2=6 4=9 5=9", 5UL)]
    // Ids need not be contiguous or small.
    [InlineData("10 20 18446744073709551615", "20=3 18446744073709551615=4", 3UL)]
    public void CommittedIndex_is_the_largest_index_a_majority_acknowledged(string voters, string acks, ulong expected)
    {
        Assert.Equal(expected, Majority(voters).CommittedIndex(Acks(acks)));
    }

    [Theory]
    [InlineData("", "", VoteResult.Won)]
    [InlineData("", "1=n", VoteResult.Won)]
    [InlineData("1", "", VoteResult.Pending)]
    [InlineData("1", "1=y", VoteResult.Won)]
    [InlineData("1", "1=n", VoteResult.Lost)]
    [InlineData("1 2", "", VoteResult.Pending)]
    [InlineData("1 2", "1=y", VoteResult.Pending)]
    [InlineData("1 2", "1=y 2=y", VoteResult.Won)]
    [InlineData("1 2", "1=n", VoteResult.Lost)]
    [InlineData("1 2", "1=y 2=n", VoteResult.Lost)]
    [InlineData("1 2 3", "1=y", VoteResult.Pending)]
    [InlineData("1 2 3", "1=y 2=y", VoteResult.Won)]
    [InlineData("1 2 3", "1=y 2=n", VoteResult.Pending)]
    [InlineData("1 2 3", "1=n 2=n", VoteResult.Lost)]
    [InlineData("1 2 3", "1=y 2=n 3=n", VoteResult.Lost)]
    [InlineData("1 2 3", "1=y 2=n 3=y", VoteResult.Won)]
    [InlineData("1 2 3", "1=y 4=y 5=y", VoteResult.Pending)]
    [InlineData("1 2 3", "1=n 4=y 5=y 6=y", VoteResult.Pending)]
    [InlineData("1 2 3 4", "1=y 2=y", VoteResult.Pending)]
    [InlineData("1 2 3 4", "1=y 2=y 3=y", VoteResult.Won)]
    [InlineData("1 2 3 4", "1=n 2=n", VoteResult.Lost)]
    [InlineData("1 2 3 4", "1=y 2=y 3=n", VoteResult.Pending)]
    [InlineData("1 2 3 4 5", "1=y 2=y 3=y", VoteResult.Won)]
    [InlineData("1 2 3 4 5", "1=n 2=n 3=n", VoteResult.Lost)]
    [InlineData("1 2 3 4 5", "1=y 2=y 3=n 4=n", VoteResult.Pending)]
    [InlineData("1 2 3 4 5", "1=y 2=y 3=n 4=n 5=y", VoteResult.Won)]
    public void VoteResult_is_won_with_a_majority_of_grants_and_lost_once_a_majority_is_out_of_reach(
        string voters, string votes, VoteResult expected)
    {
        Assert.Equal(expected, Majority(voters).VoteResult(Votes(votes)));
    }

    [Fact]
    public void Voters_are_sorted_and_distinct_whatever_the_input_order()
    {
        var config = new MajorityConfig([3, 1, 2, 3, 1]);

        Assert.Equal([1UL, 2, 3], config.Voters.ToArray());
        Assert.Equal(3, config.Count);
        Assert.Equal(2, config.QuorumSize);
        Assert.True(config.Contains(2));
        Assert.False(config.Contains(4));
        Assert.Equal("(1 2 3)", config.ToString());
    }

    [Fact]
    public void Duplicate_voter_ids_count_once_toward_the_quorum()
    {
        var config = new MajorityConfig([1, 1, 1, 2, 3]);

        Assert.Equal(0UL, config.CommittedIndex(Acks("1=9")));
        Assert.Equal(VoteResult.Pending, config.VoteResult(Votes("1=y")));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    [InlineData(5, 3)]
    [InlineData(7, 4)]
    [InlineData(9, 5)]
    public void QuorumSize_is_half_the_voters_plus_one(int voters, int quorum)
    {
        var config = new MajorityConfig(Enumerable.Range(1, voters).Select(i => (ulong)i));

        Assert.Equal(quorum, config.QuorumSize);
    }

    [Fact]
    public void CommittedIndex_does_not_allocate_for_five_voters()
    {
        var config = Majority("1 2 3 4 5");
        var acks = Acks("1=10 2=20 3=30 4=40 5=50");
        ulong sum = 0;
        for (var i = 0; i < 1_000; i++)
        {
            sum += config.CommittedIndex(acks);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            acks[(ulong)(i % 5) + 1] = (ulong)i;
            sum += config.CommittedIndex(acks);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0UL, sum);
    }

    [Fact]
    public void CommittedIndex_and_VoteResult_of_a_joint_config_do_not_allocate()
    {
        var config = Joint("1 2 3 4 5", "1 2 3 6 7");
        var acks = Acks("1=10 2=20 3=30 4=40 5=50 6=60 7=70");
        var votes = Votes("1=y 2=y 3=y 4=n");
        ulong sum = 0;
        var won = 0;
        for (var i = 0; i < 1_000; i++)
        {
            sum += config.CommittedIndex(acks);
            won += config.VoteResult(votes) == VoteResult.Won ? 1 : 0;
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            sum += config.CommittedIndex(acks);
            won += config.VoteResult(votes) == VoteResult.Won ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(101_000, won);
        Assert.NotEqual(0UL, sum);
    }
}
