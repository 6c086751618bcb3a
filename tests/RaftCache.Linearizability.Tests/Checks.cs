namespace RaftCache.Linearizability.Tests;

internal static class Checks
{
    /// <summary>Generous: these histories take milliseconds, and a timeout must fail the test, not pass it.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    public static CheckResult Check(History history) => LinearizabilityChecker.Check(history, Budget);

    public static void AssertLinearizable(History history)
    {
        var result = Check(history);
        Assert.True(result.Verdict == Verdict.Linearizable, result.Explain());
    }

    public static CheckResult AssertNotLinearizable(History history)
    {
        var result = Check(history);
        Assert.True(result.Verdict == Verdict.NotLinearizable, result.Explain());
        return result;
    }
}
