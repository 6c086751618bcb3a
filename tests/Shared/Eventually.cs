using System.Diagnostics;

namespace RaftCache.Testing;

/// <summary>Waiting on conditions with a deadline, never on fixed sleeps.</summary>
public static class Eventually
{
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (watch.Elapsed < timeout)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                last = e;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Timed out after {timeout} waiting for {what}." + (last is null ? "" : $" Last error: {last.GetType().Name}: {last.Message}"));
    }
}
