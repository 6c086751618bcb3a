using static RaftCache.Linearizability.Tests.Checks;

namespace RaftCache.Linearizability.Tests;

/// <summary>Histories that an atomic register can produce; the checker must accept every one.</summary>
public class LinearizableHistoryTests
{
    [Fact]
    public void An_empty_history_is_linearizable()
    {
        var result = Check(new HistoryBuilder().Build());

        Assert.Equal(Verdict.Linearizable, result.Verdict);
        Assert.Empty(result.Keys);
    }

    [Fact]
    public void A_sequential_history_of_puts_gets_and_deletes_is_linearizable()
    {
        var h = new HistoryBuilder();
        h.Get(1, null, 0, 1);
        h.Put(1, "v1", 2, 3);
        h.Get(2, "v1", 4, 5);
        h.Put(2, "v2", 6, 7);
        h.Get(1, "v2", 8, 9);
        h.Delete(1, existed: true, 10, 11);
        h.Get(2, null, 12, 13);
        h.Delete(2, existed: false, 14, 15);
        h.Put(1, "v3", 16, 17);

        var result = Check(h.Build());

        Assert.Equal(Verdict.Linearizable, result.Verdict);
        Assert.Equal(9, result["k"].Linearization.Count);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    public void Concurrent_overlapping_writes_may_be_seen_in_either_order(string last)
    {
        var first = last == "v1" ? "v2" : "v1";
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 10);
        h.Put(2, "v2", 0, 10);
        h.Get(3, first, 2, 4);
        h.Get(4, last, 5, 8);
        h.Get(3, last, 11, 12);
        h.Get(4, last, 13, 14);

        AssertLinearizable(h.Build());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("v1")]
    public void A_read_concurrent_with_a_write_may_see_the_old_or_the_new_value(string? read)
    {
        var h = new HistoryBuilder();
        h.Put(1, "v0", 0, 1);
        h.Delete(1, existed: true, 2, 3);
        h.Put(1, "v1", 4, 10);
        h.Get(2, read, 5, 9);
        h.Get(2, "v1", 11, 12);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void A_read_may_see_the_old_value_and_a_later_read_the_new_one_during_one_write()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v0", 0, 1);
        h.Put(1, "v1", 2, 20);
        h.Get(2, "v0", 3, 4);
        h.Get(2, "v1", 5, 6);
        h.Get(3, "v1", 7, 8);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_write_that_was_applied_is_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownPut(1, "v2", 2);
        h.Get(2, "v2", 5, 6);
        h.Get(3, "v2", 7, 8);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_write_that_was_never_applied_is_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownPut(1, "v2", 2);
        h.Get(2, "v1", 5, 6);
        h.Get(3, "v1", 100, 101);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_write_may_take_effect_long_after_its_client_gave_up()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownPut(1, "v2", 2);
        h.Get(2, "v1", 50, 51);
        h.Get(2, "v2", 100, 101);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_delete_that_was_applied_explains_a_later_absent_read()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownDelete(1, 2);
        h.Get(2, "v1", 3, 4);
        h.Get(2, null, 5, 6);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_put_that_nobody_read_can_explain_a_delete_reporting_the_key_existed()
    {
        var h = new HistoryBuilder();
        h.UnknownPut(1, "v1", 0);
        h.Delete(2, existed: true, 5, 6);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void Failed_operations_and_unknown_reads_are_dropped_before_checking()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.FailedPut(1, "v2", 2, 3);
        h.UnknownGet(2, 2);
        h.Get(2, "v1", 4, 5);

        var result = Check(h.Build());

        Assert.True(result.IsLinearizable, result.Explain());
        Assert.Equal(2, result["k"].OperationCount);
    }

    [Fact]
    public void A_delete_that_does_not_report_whether_the_key_existed_fits_either_state()
    {
        var h = new HistoryBuilder();
        h.Delete(1, existed: null, 0, 1);
        h.Put(1, "v1", 2, 3);
        h.Delete(1, existed: null, 4, 5);
        h.Get(1, null, 6, 7);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void Operations_whose_intervals_only_touch_are_treated_as_concurrent()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 5);
        h.Get(2, null, 5, 6);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void Keys_are_independent_registers()
    {
        var h = new HistoryBuilder();
        h.Put(1, "a1", 0, 1, key: "a");
        h.Put(2, "b1", 0, 1, key: "b");
        h.Get(1, "b1", 2, 3, key: "b");
        h.Get(2, "a1", 2, 3, key: "a");
        h.Get(3, null, 2, 3, key: "c");

        var result = Check(h.Build());

        Assert.True(result.IsLinearizable, result.Explain());
        Assert.Equal(["a", "b", "c"], result.Keys.Select(k => k.Key));
    }

    [Fact]
    public void A_compare_and_set_succeeds_on_the_value_it_expects_and_fails_on_another()
    {
        var h = new HistoryBuilder();
        h.Cas(1, "v1", expected: null, succeeded: true, 0, 1);
        h.Cas(2, "v2", expected: null, succeeded: false, 2, 3);
        h.Cas(1, "v3", expected: "v1", succeeded: true, 4, 5);
        h.Cas(2, "v4", expected: "v1", succeeded: false, 6, 7);
        h.Get(1, "v3", 8, 9);
        h.Delete(2, existed: true, 10, 11);
        h.Cas(1, "v5", expected: "v3", succeeded: false, 12, 13);
        h.Cas(2, "v6", expected: null, succeeded: true, 14, 15);
        h.Get(1, "v6", 16, 17);

        AssertLinearizable(h.Build());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Of_two_concurrent_compare_and_sets_expecting_the_same_value_either_may_win(bool firstWins)
    {
        var h = new HistoryBuilder();
        h.Put(1, "v0", 0, 1);
        h.Cas(2, "a", expected: "v0", succeeded: firstWins, 2, 10);
        h.Cas(3, "b", expected: "v0", succeeded: !firstWins, 2, 10);
        h.Get(1, firstWins ? "a" : "b", 11, 12);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void A_compare_and_set_may_fail_because_of_a_concurrent_write()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v0", 0, 1);
        h.Put(2, "v1", 2, 10);
        h.Cas(3, "v2", expected: "v0", succeeded: false, 3, 4);
        h.Get(3, "v1", 11, 12);

        AssertLinearizable(h.Build());
    }

    [Theory]
    [InlineData("v2")]
    [InlineData("v1")]
    public void An_unknown_compare_and_set_may_or_may_not_take_effect(string read)
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownCas(1, "v2", expected: "v1", 2);
        h.Get(2, read, 5, 6);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_put_that_nobody_read_can_explain_a_failed_compare_and_set()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownPut(1, "v2", 2);
        h.Cas(2, "v3", expected: "v1", succeeded: false, 5, 6);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_delete_can_explain_a_successful_put_if_absent()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownDelete(1, 2);
        h.Cas(2, "v2", expected: null, succeeded: true, 5, 6);

        AssertLinearizable(h.Build());
    }

    /// <summary>
    /// The Get needs the put-if-absent, which needs the delete before it: an Unknown write enabling an Unknown
    /// compare-and-set that only a later operation observes, which the search must not prune.
    /// </summary>
    [Fact]
    public void An_unknown_delete_can_enable_an_unknown_put_if_absent_whose_value_is_read_later()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownDelete(1, 2);
        h.UnknownCas(2, "v2", expected: null, 3);
        h.Get(3, "v2", 10, 11);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void A_chain_of_unknown_compare_and_sets_can_explain_a_read()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownCas(1, "v2", expected: "v1", 2);
        h.UnknownCas(2, "v3", expected: "v2", 2);
        h.UnknownCas(3, "v4", expected: "v3", 2);
        h.Get(4, "v4", 10, 11);

        AssertLinearizable(h.Build());
    }

    [Fact]
    public void The_witness_is_a_legal_sequential_order_of_the_operations()
    {
        var h = new HistoryBuilder();
        var put1 = h.Put(1, "v1", 0, 10);
        var put2 = h.Put(2, "v2", 0, 10);
        var get2 = h.Get(3, "v2", 1, 2);
        var get1 = h.Get(3, "v1", 3, 4);

        var witness = Check(h.Build())["k"].Linearization;

        Assert.Equal([put2, get2, put1, get1], witness);
    }
}
