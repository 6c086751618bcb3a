using static RaftCache.Linearizability.Tests.Checks;

namespace RaftCache.Linearizability.Tests;

/// <summary>Counter keys (Increments of one, and Gets): histories a counter can and cannot produce.</summary>
public class CounterHistoryTests
{
    [Fact]
    public void Sequential_increments_return_one_two_three_and_gets_read_the_count()
    {
        var h = new HistoryBuilder();
        h.Get(1, null, 0, 1);
        h.Increment(1, 1, 2, 3);
        h.Get(2, "1", 4, 5);
        h.Increment(2, 2, 6, 7);
        h.Increment(1, 3, 8, 9);
        h.Get(2, "3", 10, 11);

        var result = Check(h.Build());

        Assert.True(result.IsLinearizable, result.Explain());
        Assert.Equal(KeyModel.Counter, result["k"].Model);
        Assert.Equal(6, result["k"].Linearization.Count);
    }

    [Fact]
    public void Concurrent_increments_may_return_in_either_order()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 2, 0, 10);
        h.Increment(2, 1, 0, 10);
        h.Get(3, "1", 1, 2);
        h.Get(3, "2", 11, 12);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void Operations_whose_intervals_only_touch_are_treated_as_concurrent()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 2, 0, 5);
        h.Increment(2, 1, 5, 6);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void A_gap_in_the_results_is_filled_by_an_unknown_increment_invoked_in_time()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        h.UnknownIncrement(1, 2);
        h.Increment(2, 3, 5, 6);
        h.Get(3, "3", 7, 8);

        var result = Check(h.Build());

        Assert.True(result.IsLinearizable, result.Explain());
        Assert.Equal(4, result["k"].Linearization.Count);
    }

    [Fact]
    public void Unknown_increments_may_never_take_effect_and_failed_ones_never_do()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        h.UnknownIncrement(1, 2);
        h.FailedIncrement(2, 2, 3);
        h.UnknownGet(3, 2);
        h.Increment(2, 2, 5, 6);
        h.Get(3, "2", 7, 8);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void A_read_may_count_an_unknown_increment_that_took_effect_after_every_other_one()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        h.UnknownIncrement(1, 2);
        h.Get(2, "1", 3, 4);
        h.Get(2, "2", 50, 51);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void Counters_and_registers_in_one_history_are_checked_each_their_own_way()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1, key: "n");
        h.Put(1, "v1", 0, 1, key: "r");
        h.Get(2, "1", 2, 3, key: "n");
        h.Get(2, "v1", 2, 3, key: "r");

        var result = Check(h.Build());

        Assert.True(result.IsLinearizable, result.Explain());
        Assert.Equal(KeyModel.Counter, result["n"].Model);
        Assert.Equal(KeyModel.Register, result["r"].Model);
    }

    [Fact]
    public void Two_increments_returning_the_same_value_are_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 10);
        var second = h.Increment(2, 1, 0, 10);

        var result = AssertNotLinearizable(h.Build());

        var problem = Assert.Single(result["k"].Unplaced);
        Assert.Same(second, problem.Operation);
        Assert.Contains("returned 1, as #0 did", problem.Reason, StringComparison.Ordinal);
        Assert.Contains("fits a counter", result.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_increment_returning_less_than_one_that_completed_before_it_was_invoked_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 2, 0, 1);
        var later = h.Increment(2, 1, 2, 3);

        var result = AssertNotLinearizable(h.Build());

        var problem = Assert.Single(result["k"].Unplaced, p => p.Operation == later);
        Assert.Contains("returned 1, but #0 returned 2 and completed at 1 before it was invoked", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_that_misses_an_increment_completed_before_it_began_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        h.Get(2, null, 2, 3);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_read_that_goes_back_after_a_higher_read_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 10);
        h.Increment(2, 2, 0, 10);
        h.Get(3, "2", 1, 2);
        h.Get(3, "1", 3, 4);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_gap_no_increment_can_fill_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        var skipping = h.Increment(1, 3, 2, 3);

        var result = AssertNotLinearizable(h.Build());

        var problem = Assert.Single(result["k"].Unplaced);
        Assert.Same(skipping, problem.Operation);
        Assert.Contains("takes 3 increments", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_increment_invoked_after_the_gap_had_to_be_filled_cannot_fill_it()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        var skipping = h.Increment(1, 3, 2, 3);
        h.UnknownIncrement(2, 4);

        var result = AssertNotLinearizable(h.Build());

        var problem = Assert.Single(result["k"].Unplaced);
        Assert.Same(skipping, problem.Operation);
        Assert.Contains("no completed increment returned 2, and no increment of unknown outcome was invoked by then", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void One_unknown_increment_cannot_fill_two_gaps()
    {
        var h = new HistoryBuilder();
        h.UnknownIncrement(2, 0);
        h.UnknownIncrement(3, 9);
        h.Increment(1, 2, 1, 2);
        h.Increment(1, 4, 3, 4);

        var result = AssertNotLinearizable(h.Build());

        Assert.Contains("the 1 of unknown outcome invoked by then all fill lower gaps", result.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_of_more_increments_than_there_are_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        h.UnknownIncrement(1, 2);
        h.Get(2, "3", 5, 6);

        AssertNotLinearizable(h.Build());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("+1")]
    [InlineData("01")]
    [InlineData("one")]
    public void A_read_of_something_a_counter_never_holds_is_not_linearizable(string read)
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        h.Get(2, read, 0, 5);

        var result = AssertNotLinearizable(h.Build());

        Assert.Contains("which no count is written as", result.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_increment_returning_zero_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 0, 0, 1);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_key_with_increments_and_puts_is_rejected()
    {
        var h = new HistoryBuilder();
        h.Increment(1, 1, 0, 1);
        h.Put(1, "v1", 2, 3);

        var error = Assert.Throws<ArgumentException>(() => Check(h.Build()));

        Assert.Contains("a counter key may only have Increments and Gets", error.Message, StringComparison.Ordinal);
    }
}
