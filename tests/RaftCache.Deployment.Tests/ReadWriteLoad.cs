using System.Collections.Concurrent;
using System.Diagnostics;
using RaftCache.Client;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// Writers that overwrite keys of their own and readers that read them (linearizable and lease reads in turn), spread
/// over several cache clients, one operation after another each. Counts the successful operations that started after
/// a mark (<see cref="Mark"/>), and remembers per key the last acknowledged value and the values written since whose outcome is unknown (a
/// failed write may or may not be applied), so that every acknowledged write can be checked afterwards.
/// </summary>
public sealed class ReadWriteLoad : IAsyncDisposable
{
    private const int KeysPerWriter = 20;
    private readonly Lock _lock = new();
    private long _mark = long.MaxValue;
    private int _writesSinceMark;
    private int _readsSinceMark;
    private TimeSpan _longestSinceMark;
    private readonly ConcurrentDictionary<string, int> _failures = new();
    private readonly ConcurrentDictionary<string, KeyState> _keys = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly int _writers;
    private readonly Task _running;

    private ReadWriteLoad(IReadOnlyList<IRaftCacheClient> caches, int writers, int readers)
    {
        _writers = writers;
        _running = Task.WhenAll(
            Enumerable.Range(0, writers).Select(w => Task.Run(() => WriteAsync(caches[w % caches.Count], w)))
                .Concat(Enumerable.Range(0, readers).Select(r => Task.Run(() => ReadAsync(caches[r % caches.Count], r)))));
    }

    public static ReadWriteLoad Start(IReadOnlyList<IRaftCacheClient> caches, int writers, int readers) => new(caches, writers, readers);

    public string Failures => _failures.IsEmpty ? "none" : string.Join(", ", _failures.Select(f => $"{f.Value} x {f.Key}"));

    /// <summary>Starts counting anew from <paramref name="mark"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void Mark(long mark)
    {
        lock (_lock)
        {
            _mark = mark;
            _writesSinceMark = _readsSinceMark = 0;
            _longestSinceMark = TimeSpan.Zero;
        }
    }

    /// <summary>Successful writes and reads that started at or after the mark, and the longest successful operation that ended after it.</summary>
    public (int Writes, int Reads, TimeSpan Longest) SinceMark
    {
        get
        {
            lock (_lock) return (_writesSinceMark, _readsSinceMark, _longestSinceMark);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds; false if <paramref name="timeout"/> passes first.</summary>
    public async Task<bool> WaitUntilAsync(Func<ReadWriteLoad, bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!condition(this))
        {
            if (_running.IsCompleted) await _running;
            if (watch.Elapsed >= timeout) return false;
            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>Each key written, with its last acknowledged value (null if none) and the values of unknown outcome written since.</summary>
    public IEnumerable<(string Key, string? Acknowledged, IReadOnlyCollection<string> Unknown)> Written =>
        _keys.Select(k => (k.Key, k.Value.Acknowledged, (IReadOnlyCollection<string>)k.Value.Unknown));

    private async Task WriteAsync(IRaftCacheClient cache, int writer)
    {
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var key = $"fz{writer}-{i % KeysPerWriter}";
            var value = $"{writer}/{i}";
            var state = _keys.GetOrAdd(key, _ => new KeyState());
            var started = Stopwatch.GetTimestamp();
            try
            {
                // The client ends the call by its own deadline; the outer one only keeps a hang from stalling the test.
                await cache.PutAsync(key, value).WaitAsync(Deadlines.Call);
                state.Acknowledged = value;
                state.Unknown.Clear();
                Succeeded(isWrite: true, started);
            }
            catch (Exception e) when (e is RaftCacheException or TimeoutException or OrleansException)
            {
                state.Unknown.Add(value);
                await FailedAsync(e);
            }
        }
    }

    private async Task ReadAsync(IRaftCacheClient cache, int reader)
    {
        var random = new Random(reader);
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var key = $"fz{random.Next(_writers)}-{random.Next(KeysPerWriter)}";
            var consistency = i % 2 == 0 ? ReadConsistency.Linearizable : ReadConsistency.Lease;
            var started = Stopwatch.GetTimestamp();
            try
            {
                await cache.GetAsync(key, consistency).WaitAsync(Deadlines.Call);
                Succeeded(isWrite: false, started);
            }
            catch (Exception e) when (e is RaftCacheException or TimeoutException or OrleansException)
            {
                await FailedAsync(e);
            }
        }
    }

    private void Succeeded(bool isWrite, long started)
    {
        var ended = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            if (ended < _mark) return;
            var took = Stopwatch.GetElapsedTime(started, ended);
            if (took > _longestSinceMark) _longestSinceMark = took;
            if (started < _mark) return;
            if (isWrite) _writesSinceMark++;
            else _readsSinceMark++;
        }
    }

    private async Task FailedAsync(Exception e)
    {
        _failures.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
        // Not a wait for a condition: a short pause so that a worker does not spin while the cluster cannot answer.
        await Task.Delay(20);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
    }

    /// <summary>One key's writes, by its only writer; read by the test once the writers stopped.</summary>
    private sealed class KeyState
    {
        public string? Acknowledged { get; set; }

        public List<string> Unknown { get; } = [];
    }
}
