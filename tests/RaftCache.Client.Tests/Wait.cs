namespace RaftCache.Client.Tests;

/// <summary>Waiting on a condition with a deadline, never on fixed sleeps.</summary>
internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition()) await Task.Delay(5, deadline.Token);
    }
}
