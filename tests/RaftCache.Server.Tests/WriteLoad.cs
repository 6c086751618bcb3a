using System.Collections.Concurrent;
using RaftCache.Client;

namespace RaftCache.Server.Tests;

/// <summary>Concurrent writers of unique keys that remember every write the cache acknowledged.</summary>
public sealed class WriteLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private long _failures;

    public WriteLoad(IRaftCacheClient cache, int workers)
    {
        for (var w = 0; w < workers; w++)
        {
            var worker = w;
            _workers.Add(Task.Run(async () =>
            {
                for (var i = 0; !_stop.IsCancellationRequested; i++)
                {
                    var key = $"w{worker}-{i}";
                    var value = $"value-{worker}-{i}";
                    try
                    {
                        await cache.PutAsync(key, value);
                        Acknowledged[key] = value;
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // Unavailable, unknown outcome or a call to a dead silo while the cluster recovers: not
                        // acknowledged, not checked; the kinds are reported if the load stalls.
                        Interlocked.Increment(ref _failures);
                        FailureKinds.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
                    }
                }
            }));
        }
    }

    public ConcurrentDictionary<string, string> Acknowledged { get; } = new();

    public long Failures => Interlocked.Read(ref _failures);

    public ConcurrentDictionary<string, int> FailureKinds { get; } = new();

    public async Task WaitForAcknowledgedAsync(int count, TimeSpan timeout)
    {
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(Acknowledged.Count >= count), timeout, $"{count} acknowledged writes");
        }
        catch (TimeoutException e)
        {
            var kinds = string.Join(", ", FailureKinds.Select(k => $"{k.Key} x{k.Value}"));
            throw new TimeoutException($"{e.Message} Have {Acknowledged.Count}; {Failures} failures ({kinds}); workers finished: {_workers.Count(w => w.IsCompleted)}.", e);
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
