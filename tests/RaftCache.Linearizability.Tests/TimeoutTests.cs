namespace RaftCache.Linearizability.Tests;

/// <summary>Running out of budget is its own verdict and never counts as a pass.</summary>
public class TimeoutTests
{
    /// <summary>
    /// Many mutually concurrent writes followed by a read no order can explain: proving that takes the search through
    /// every subset of the writes, about 2^28 memoized states, far beyond any small budget.
    /// </summary>
    private static History HardNonLinearizableHistory()
    {
        var h = new HistoryBuilder();
        for (var client = 0; client < 28; client++)
        {
            h.Put(client, $"v{client}", 0, 1_000);
        }

        h.Get(99, "ghost", 0, 1_000);
        return h.Build();
    }

    [Fact]
    public void A_search_that_exceeds_its_budget_reports_timeout()
    {
        var result = LinearizabilityChecker.Check(HardNonLinearizableHistory(), TimeSpan.FromMilliseconds(50));

        Assert.Equal(Verdict.Timeout, result.Verdict);
        Assert.False(result.IsLinearizable);
        Assert.Equal(Verdict.Timeout, result["k"].Verdict);
        Assert.True(result["k"].Steps > 0);
        Assert.Contains("this is not a pass", result.Explain(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_zero_budget_reports_timeout_even_for_a_linearizable_history()
    {
        var history = RandomHistories.Generate(seed: 7, clients: 8, operationsPerClient: 400, keys: 1).History;
        Assert.True(Checks.Check(history).IsLinearizable);

        var result = LinearizabilityChecker.Check(history, TimeSpan.Zero);

        Assert.Equal(Verdict.Timeout, result.Verdict);
        Assert.False(result.IsLinearizable);
    }

    [Fact]
    public void A_cancelled_check_reports_timeout()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        var result = LinearizabilityChecker.Check(HardNonLinearizableHistory(), Timeout.InfiniteTimeSpan, cancellation.Token);

        Assert.Equal(Verdict.Timeout, result.Verdict);
    }

    [Fact]
    public void A_proven_violation_on_one_key_outranks_a_timeout_on_another()
    {
        var hard = HardNonLinearizableHistory().Operations;
        var h = new HistoryBuilder { Key = "stale" };
        h.Put(1, "v1", 0, 1);
        h.Put(1, "v2", 2, 3);
        h.Get(2, "v1", 4, 5);
        var operations = h.Build().Operations
            .Select(op => new Operation(op.Id + 1_000, op.ClientId, op.Kind, op.Key, op.Value, op.InvokedAt, op.CompletedAt, op.Outcome, op.ReadValue, op.Existed))
            .Concat(hard);

        var result = LinearizabilityChecker.Check(new History(operations), TimeSpan.FromMilliseconds(200));

        Assert.Equal(Verdict.Timeout, result["k"].Verdict);
        Assert.Equal(Verdict.NotLinearizable, result["stale"].Verdict);
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
    }

    [Fact]
    public void A_negative_budget_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(
            () => LinearizabilityChecker.Check(new History([]), TimeSpan.FromSeconds(-1)));
    }
}
