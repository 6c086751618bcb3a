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
                    catch (RaftCacheException)
                    {
                        // Unavailable or unknown outcome while the cluster recovers: not acknowledged, not checked.
                        Interlocked.Increment(ref _failures);
                    }
                    catch (Exception e) when (e is TimeoutException or OrleansException)
                    {
                        Interlocked.Increment(ref _failures);
                    }
                }
            }));
        }
    }

    public ConcurrentDictionary<string, string> Acknowledged { get; } = new();

    public long Failures => Interlocked.Read(ref _failures);

    public Task WaitForAcknowledgedAsync(int count, TimeSpan timeout) =>
        Eventually.WaitAsync(() => Task.FromResult(Acknowledged.Count >= count), timeout, $"{count} acknowledged writes (have {Acknowledged.Count}, {Failures} failures)");

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
