using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace RaftCache.Client;

/// <summary>
/// Chooses the façade key each call goes through, so that one client's calls enter the cluster through every gateway
/// rather than one, go through the gateway of the silo that serves them where that is known, and avoid a gateway that
/// stopped answering (design §4, "Batching and routing").
/// </summary>
/// <remarks>
/// <para>Why keys: an Orleans client sends every message for one grain through one gateway (grains hash to buckets;
/// a bucket is bound to a gateway connection when first used, taking the live gateways in turn, and keeps it until the
/// connection fails). The façade is a stateless worker, so any key reaches an activation on its gateway's own silo,
/// and <see cref="Keys"/> keys spread over the gateways.</para>
/// <para>Orleans offers no way to address a gateway, so the client learns where each key is bound: it asks each key's
/// façade where it runs (<see cref="IRaftCacheGrain.Locate"/>) when first used, one key each
/// <see cref="RefreshInterval"/> while in use, and again whenever a call through it goes unanswered. The answers also
/// carry the leaders the silos know. A binding can change when its connection fails; until it is learnt again the
/// client may pick a gateway other than the one it meant, which costs a hop, never correctness.</para>
/// <para>The rule (<see cref="Choose"/>): a call with an operation for a leader (a write or a lease read) goes through a
/// key bound to the leader of that operation's group; any other call, or one whose leader is not known or not
/// answering, takes the next answering key in turn. A key is suspect once a call through it went unanswered for
/// <see cref="RaftCacheClientOptions.AttemptTimeout"/> (with every key bound to the same silo), until a call or a
/// probe through it is answered.</para>
/// <para>Thread-safe.</para>
/// </remarks>
internal sealed class FacadeSelector : IDisposable
{
    /// <summary>Façade keys per client: several per gateway of a small cluster, so that the turns cover every gateway.</summary>
    public const int Keys = 16;

    /// <summary>How often a client in use asks one key where it is bound, which also refreshes the leaders it knows.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    // Connection failures in a row after which a call gives up before its deadline: the cluster is unreachable.
    private const int MaxConnectionFailures = 3;

    private readonly IRaftCacheGrain[] _facades = new IRaftCacheGrain[Keys];
    private readonly RaftCacheClientOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _lock = new();
    private readonly string?[] _silos = new string?[Keys];
    private readonly bool[] _suspect = new bool[Keys];
    private readonly bool[] _probing = new bool[Keys];
    private string?[] _leaders = [];
    private int _turn;
    private int _refreshTurn;
    private long _lastRefresh;
    private bool _started;

    public FacadeSelector(IGrainFactory grains, RaftCacheClientOptions options)
    {
        for (var key = 0; key < Keys; key++) _facades[key] = grains.GetGrain<IRaftCacheGrain>(key);
        _options = options;
    }

    /// <summary>The façade of <paramref name="key"/>.</summary>
    public IRaftCacheGrain this[int key] => _facades[key];

    /// <summary>
    /// The key for a call whose first operation for a leader is of <paramref name="group"/> (null if it has none):
    /// one bound to that group's leader if known and answering, else the next answering key in turn, else the next key.
    /// </summary>
    public int Choose(int? group)
    {
        List<int>? probe = null;
        int chosen;
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            if (!_started)
            {
                // First use: ask every key where it is bound. Their first messages also bind them to the gateways in turn.
                _started = true;
                _lastRefresh = now;
                probe = [.. Enumerable.Range(0, Keys)];
            }
            else if (Stopwatch.GetElapsedTime(_lastRefresh, now) >= RefreshInterval)
            {
                _lastRefresh = now;
                probe = [_refreshTurn];
                _refreshTurn = (_refreshTurn + 1) % Keys;
            }

            chosen = ChooseLocked(group);
            if (probe is not null) probe.RemoveAll(key => !StartProbeLocked(key));
        }

        if (probe is not null) foreach (var key in probe) _ = Task.Run(() => ProbeAsync(key));
        return chosen;
    }

    private int ChooseLocked(int? group)
    {
        if (group is { } g && g >= 0 && g < _leaders.Length && _leaders[g] is { } leader)
        {
            for (var i = 0; i < Keys; i++)
            {
                var key = (_turn + i) % Keys;
                if (_suspect[key] || _silos[key] != leader) continue;
                _turn = (key + 1) % Keys;
                return key;
            }
        }

        for (var i = 0; i < Keys; i++)
        {
            var key = (_turn + i) % Keys;
            if (_suspect[key]) continue;
            _turn = (key + 1) % Keys;
            return key;
        }

        // Every key is suspect: no gateway is known to answer, so take them in turn rather than give up.
        var next = _turn % Keys;
        _turn = next + 1;
        return next;
    }

    /// <summary>A call through <paramref name="key"/> was answered: its gateway answers.</summary>
    public void Answered(int key)
    {
        lock (_lock) _suspect[key] = false;
    }

    /// <summary>
    /// A call through <paramref name="key"/> went unanswered for the attempt timeout, or its connection failed: it and
    /// every key bound to the same silo are suspect until a call or a probe through them is answered. Probes start at
    /// once, so a gateway that was only slow (a façade waiting out an election) is cleared within a round trip.
    /// </summary>
    public void Unanswered(int key)
    {
        List<int> probe = [];
        lock (_lock)
        {
            var silo = _silos[key];
            for (var k = 0; k < Keys; k++)
            {
                if (k != key && (silo is null || _silos[k] != silo)) continue;
                _suspect[k] = true;
                if (StartProbeLocked(k)) probe.Add(k);
            }
        }

        foreach (var k in probe) _ = Task.Run(() => ProbeAsync(k));
    }

    /// <summary>Whether <paramref name="key"/> is suspect (for tests and diagnostics).</summary>
    public bool IsSuspect(int key)
    {
        lock (_lock) return _suspect[key];
    }

    /// <summary>The silo <paramref name="key"/> is bound to, once known (for tests and diagnostics).</summary>
    public string? SiloOf(int key)
    {
        lock (_lock) return _silos[key];
    }

    /// <summary>
    /// Calls through the next answering key and, each time <see cref="RaftCacheClientOptions.AttemptTimeout"/> passes
    /// without an answer, through another one as well; the first answer wins. Only for calls that change nothing.
    /// </summary>
    /// <exception cref="TimeoutException">No answer within <paramref name="budget"/>.</exception>
    /// <exception cref="OrleansException">The cluster could not be reached (the last of several connection failures).</exception>
    public async Task<T> CallAsync<T>(Func<IRaftCacheGrain, Task<T>> call, TimeSpan budget, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var attempts = new List<(int Key, Task<T> Task)>();
        Exception? failure = null;
        var failures = 0;
        while (budget - Stopwatch.GetElapsedTime(started) > TimeSpan.Zero && failures < MaxConnectionFailures)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = Choose(null);
            attempts.Add((key, Start(call, key)));
            var nextAttempt = Stopwatch.GetElapsedTime(started) + _options.AttemptTimeout;
            while (attempts.Count > 0)
            {
                var wait = Min(nextAttempt, budget) - Stopwatch.GetElapsedTime(started);
                Task<T> done;
                try
                {
                    done = wait > TimeSpan.Zero
                        ? await Task.WhenAny(attempts.Select(a => a.Task)).WaitAsync(wait, cancellationToken).ConfigureAwait(false)
                        : throw new TimeoutException();
                }
                catch (TimeoutException)
                {
                    // Left running: if it answers after all, it still clears its key (Start).
                    Unanswered(key);
                    break;
                }

                attempts.RemoveAll(a => a.Task == done);
                if (done.IsCompletedSuccessfully) return done.Result;
                // Anything but a failed connection (a fault of the call itself, a cancellation) is the caller's to see.
                if (done.Exception?.InnerException is not OrleansException error) return await done.ConfigureAwait(false);
                failure = error;
                failures++;
                // The gateway's connection failed: Orleans binds the key to another gateway on its next message.
                var pause = TimeSpan.FromMilliseconds(100 * failures);
                if (budget - Stopwatch.GetElapsedTime(started) <= pause) break;
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                break;
            }
        }

        if (failure is not null) ExceptionDispatchInfo.Throw(failure);
        throw new TimeoutException($"No answer within {budget.TotalMilliseconds:0} ms.");
    }

    private Task<T> Start<T>(Func<IRaftCacheGrain, Task<T>> call, int key)
    {
        Task<T> task;
        try
        {
            task = call(_facades[key]);
        }
        catch (Exception e)
        {
            task = Task.FromException<T>(e);
        }

        // Any answer, even one the caller stopped waiting for, shows the key's gateway answers; a failure left behind is observed.
        _ = task.ContinueWith(
            static (t, state) =>
            {
                var (selector, key) = ((FacadeSelector, int))state!;
                if (t.IsCompletedSuccessfully) selector.Answered(key);
                else _ = t.Exception;
            },
            (this, key), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    private bool StartProbeLocked(int key)
    {
        if (_probing[key] || _disposed.IsCancellationRequested) return false;
        _probing[key] = true;
        return true;
    }

    /// <summary>
    /// Asks <paramref name="key"/>'s façade where it runs, once per attempt timeout until it answers, for at most a call
    /// timeout (afterwards the key's turn in the refresh asks again).
    /// </summary>
    private async Task ProbeAsync(int key)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                try
                {
                    var location = await _facades[key].Locate().WaitAsync(_options.AttemptTimeout, _disposed.Token).ConfigureAwait(false);
                    Located(key, location);
                    return;
                }
                catch (Exception e) when (e is TimeoutException or OrleansException)
                {
                    Unanswered(key);
                    if (Stopwatch.GetElapsedTime(started) >= _options.CallTimeout) return;
                    // A timeout already waited; a failed connection is retried after a pause, through its next binding.
                    if (e is OrleansException) await Task.Delay(_options.AttemptTimeout, _disposed.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The façade answered but cannot say where it runs (a silo of an older version): its gateway answers.
                    Answered(key);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // Disposed.
        }
        finally
        {
            lock (_lock) _probing[key] = false;
        }
    }

    private void Located(int key, FacadeLocation location)
    {
        lock (_lock)
        {
            _silos[key] = location.Silo.Length > 0 ? location.Silo : null;
            _suspect[key] = false;
            if (_leaders.Length < location.Leaders.Length) Array.Resize(ref _leaders, location.Leaders.Length);
            // A silo that knows no leader (an election under way) says nothing about the one known before.
            for (var group = 0; group < location.Leaders.Length; group++)
            {
                if (location.Leaders[group] is { } leader) _leaders[group] = leader;
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Stops the probes. (The token source holds no timer, so it is only canceled, never disposed: a probe may still read its token.)</summary>
    public void Dispose() => _disposed.Cancel();
}
