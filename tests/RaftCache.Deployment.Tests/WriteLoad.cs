using System.Collections.Concurrent;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// Writers that put unique keys one after another, each call bounded by a client-side deadline, and remember every
/// write the cluster acknowledged. A write that failed or timed out is not acknowledged: it may or may not be applied,
/// so only acknowledged writes are checked afterwards.
/// </summary>
public sealed class WriteLoad : IAsyncDisposable
{
    private readonly ConcurrentQueue<(string Key, string Value)> _acknowledged = new();
    private readonly ConcurrentDictionary<string, int> _failures = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writers;
    private long _acked;

    private WriteLoad(Client.IRaftCacheClient cache, int writers) =>
        _writers = Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => WriteAsync(cache, w))));

    public static WriteLoad Start(Client.IRaftCacheClient cache, int writers) => new(cache, writers);

    public long Acknowledged => Interlocked.Read(ref _acked);

    public IReadOnlyCollection<(string Key, string Value)> AcknowledgedWrites => _acknowledged;

    public string Failures => _failures.IsEmpty ? "none" : string.Join(", ", _failures.Select(f => $"{f.Value} x {f.Key}"));

    private async Task WriteAsync(Client.IRaftCacheClient cache, int writer)
    {
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var key = $"w{writer}-{i}";
            var value = $"value {writer}/{i}";
            try
            {
                // The façade gives up after the silos' request timeout; the client waits longer (Deadlines.ClientCall).
                await cache.PutAsync(key, value).WaitAsync(Deadlines.ClientCall);
                _acknowledged.Enqueue((key, value));
                Interlocked.Increment(ref _acked);
            }
            catch (Exception e) when (e is RaftCacheException or TimeoutException or OrleansException)
            {
                _failures.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
                // Not a fixed sleep for a condition: a short pause so a writer does not spin while the cluster fails over.
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> writes were acknowledged.</summary>
    public async Task WaitForAcknowledgedAsync(long count, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Acknowledged < count)
        {
            if (_writers.IsCompleted) await _writers;
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"Only {Acknowledged} writes acknowledged within {timeout.TotalSeconds:0} s, expected {count}. Failures: {Failures}.{Environment.NewLine}{describe()}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _writers;
        _stop.Dispose();
    }
}
