using static RaftCache.Linearizability.Tests.Checks;

namespace RaftCache.Linearizability.Tests;

/// <summary>Histories no atomic register can produce; the checker must reject each one and say why.</summary>
public class NonLinearizableHistoryTests
{
    [Fact]
    public void A_stale_read_after_an_acknowledged_write_completed_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.Put(1, "v2", 2, 3);
        var stale = h.Get(2, "v1", 4, 5);

        var result = AssertNotLinearizable(h.Build());

        var key = result["k"];
        Assert.Equal(2, key.Linearization.Count);
        var unplaced = Assert.Single(key.Unplaced);
        Assert.Same(stale, unplaced.Operation);
        Assert.Contains("read \"v1\" but the value is \"v2\"", unplaced.Reason, StringComparison.Ordinal);
        Assert.Contains("#2 client 2: Get(k) -> \"v1\" [4, 5]", result.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_that_goes_back_to_an_older_value_after_a_newer_one_was_read_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.Put(1, "v2", 2, 20);
        h.Get(2, "v2", 3, 4);
        h.Get(3, "v1", 5, 6);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void Two_clients_observing_two_writes_in_opposite_orders_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 10);
        h.Put(2, "v2", 0, 10);
        h.Get(3, "v1", 1, 2);
        h.Get(3, "v2", 3, 4);
        h.Get(4, "v2", 1, 2);
        h.Get(4, "v1", 3, 4);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_read_of_a_value_never_written_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        var ghost = h.Get(2, "ghost", 0, 5);

        var result = AssertNotLinearizable(h.Build());

        var unplaced = Assert.Single(result["k"].Unplaced, u => u.Operation == ghost);
        Assert.Contains("no Put or CompareAndSet in the history writes the value read", unplaced.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_delete_reporting_it_removed_an_absent_key_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.Delete(1, existed: true, 2, 3);
        h.Delete(2, existed: true, 4, 5);

        var result = AssertNotLinearizable(h.Build());

        Assert.Contains(result["k"].Unplaced, u => u.Reason.StartsWith("reported that the key existed", StringComparison.Ordinal));
    }

    [Fact]
    public void A_delete_reporting_nothing_to_remove_while_the_key_holds_a_value_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.Delete(2, existed: false, 2, 3);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_failed_write_must_not_be_seen()
    {
        var h = new HistoryBuilder();
        h.FailedPut(1, "v1", 0, 1);
        h.Get(2, "v1", 2, 3);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_write_cannot_take_effect_before_it_was_invoked()
    {
        var h = new HistoryBuilder();
        h.Get(2, "v1", 0, 1);
        h.UnknownPut(1, "v1", 2);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_write_that_was_read_cannot_be_undone_by_a_later_read()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownPut(1, "v2", 2);
        h.Get(2, "v2", 3, 4);
        h.Get(2, "v1", 5, 6);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_compare_and_set_that_succeeded_although_the_key_held_another_value_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.Put(1, "v2", 2, 3);
        var cas = h.Cas(2, "v3", expected: "v1", succeeded: true, 4, 5);

        var result = AssertNotLinearizable(h.Build());

        var unplaced = Assert.Single(result["k"].Unplaced);
        Assert.Same(cas, unplaced.Operation);
        Assert.Contains("expected \"v1\" and set the value, but the value is \"v2\"", unplaced.Reason, StringComparison.Ordinal);
        Assert.Contains("CompareAndSet(k, \"v3\", expected \"v1\") -> set [4, 5]", result.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_compare_and_set_that_failed_although_the_key_held_the_expected_value_is_not_linearizable()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.Cas(2, "v2", expected: "v1", succeeded: false, 2, 3);

        var result = AssertNotLinearizable(h.Build());

        Assert.Contains("expected \"v1\" and did not set the value, but that is the value", result.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_compare_and_sets_expecting_the_same_value_cannot_both_succeed()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v0", 0, 1);
        h.Cas(2, "a", expected: "v0", succeeded: true, 2, 10);
        h.Cas(3, "b", expected: "v0", succeeded: true, 2, 10);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_put_if_absent_cannot_succeed_while_the_key_holds_a_value()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.Cas(2, "v2", expected: null, succeeded: true, 2, 3);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void The_value_of_a_failed_compare_and_set_must_not_be_seen()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.Cas(2, "v2", expected: "v0", succeeded: false, 2, 3);
        h.Get(2, "v2", 4, 5);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void An_unknown_compare_and_set_expecting_a_value_the_key_never_held_cannot_explain_a_read()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownCas(1, "v2", expected: "v0", 2);
        h.Get(2, "v2", 5, 6);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_failed_compare_and_set_needs_a_change_of_value_that_nothing_explains()
    {
        var h = new HistoryBuilder();
        h.Put(1, "v1", 0, 1);
        h.UnknownPut(1, "v2", 10);
        h.Cas(2, "v3", expected: "v1", succeeded: false, 5, 6);

        AssertNotLinearizable(h.Build());
    }

    [Fact]
    public void A_violation_on_one_key_is_reported_for_that_key_only()
    {
        var h = new HistoryBuilder();
        h.Put(1, "a1", 0, 1, key: "a");
        h.Get(1, "a1", 2, 3, key: "a");
        h.Put(1, "b1", 0, 1, key: "b");
        h.Get(1, null, 2, 3, key: "b");

        var result = AssertNotLinearizable(h.Build());

        Assert.Equal(Verdict.Linearizable, result["a"].Verdict);
        Assert.Equal(Verdict.NotLinearizable, result["b"].Verdict);
        Assert.DoesNotContain("Key a:", result.Explain(), StringComparison.Ordinal);
        Assert.Contains("Key b: NotLinearizable", result.Explain(), StringComparison.Ordinal);
    }
}
