using System.Collections.Concurrent;
using System.Text;
using RaftCache.Client;
using RaftCache.Linearizability;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>
/// Logical clients issuing puts of unique values, deletes and gets over a few shared keys, one operation at a time
/// each, and recording every one in a <see cref="HistoryRecorder"/>. Clients share typed clients in threes (so a
/// session each three), each limited to one call in flight: their concurrent operations travel in batches, as an
/// application's requests do through its one <see cref="RaftCacheClient"/> under load.
/// </summary>
/// <remarks>
/// Outcomes: Ok with the result; Failed only for the typed errors that guarantee nothing was applied
/// (<see cref="CacheUnavailableException"/>, <see cref="CacheOverloadedException"/>,
/// <see cref="CacheSessionExpiredException"/>, <see cref="CacheArgumentException"/>); Unknown for everything else,
/// including <see cref="CacheOutcomeUnknownException"/>, the client-side deadline and Orleans exceptions.
/// </remarks>
internal sealed class CacheWorkload : IAsyncDisposable
{
    private readonly CacheCluster _cluster;
    private readonly LinearizabilitySettings _settings;
    private readonly Func<int, byte[], TimeSpan, Task<byte[]?>>? _read;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private readonly List<RaftCacheClient> _sessions = [];
    private readonly ConcurrentDictionary<string, long> _counters = new(StringComparer.Ordinal);
    private ClusterLayout? _layout;
    private readonly ConcurrentDictionary<string, string> _lastErrors = new(StringComparer.Ordinal);

    /// <param name="cluster">The cluster whose Orleans client carries every logical client's calls.</param>
    /// <param name="recorder">Where operations are recorded.</param>
    /// <param name="settings">Clients, keys and deadlines.</param>
    /// <param name="seed">Seeds each client's choice of operations and keys.</param>
    /// <param name="read">
    /// Serves a client's Get instead of the linearizable read through its session client (the canary reads a
    /// partitioned replica's local state); it gets the client, the key and the deadline, and throws a typed error on
    /// failure.
    /// </param>
    public CacheWorkload(CacheCluster cluster, HistoryRecorder recorder, LinearizabilitySettings settings, int seed,
        Func<int, byte[], TimeSpan, Task<byte[]?>>? read = null)
    {
        _cluster = cluster;
        Recorder = recorder;
        _settings = settings;
        _read = read;
        Keys = [.. Enumerable.Range(0, settings.Keys).Select(k => $"k{k}")];
        Seed = seed;
    }

    /// <summary>Logical clients that share one typed client, so that their operations are batched together.</summary>
    public const int ClientsPerSession = 3;

    public HistoryRecorder Recorder { get; }

    /// <summary>Batch calls the workload's typed clients sent, and the operations they carried.</summary>
    public (long Calls, long Commands) Batches => (_sessions.Sum(s => s.BatchStatistics.Calls), _sessions.Sum(s => s.BatchStatistics.Commands));

    public IReadOnlyList<string> Keys { get; }

    public int Seed { get; }

    public long OkOperations => Count(OperationOutcome.Ok);

    public long Count(OperationOutcome outcome) => _counters.Where(c => c.Key.EndsWith(" " + outcome, StringComparison.Ordinal)).Sum(c => c.Value);

    public void Start()
    {
        RaftCacheClient? session = null;
        for (var c = 0; c < _settings.Clients; c++)
        {
            var client = c;
            if (c % ClientsPerSession == 0)
            {
                // A call stuck on a killed gateway silo is given up after the façade's own deadline and a little more.
                session = new RaftCacheClient(_cluster.Cluster.Client, new RaftCacheClientOptions
                {
                    MaxCallsInFlight = 1,
                    AttemptTimeout = _settings.RequestTimeout + TimeSpan.FromMilliseconds(500),
                });
                _sessions.Add(session);
            }

            // Each client's choices are a function of the seed alone; only the interleaving depends on timing.
            var random = new Random(HashCode.Combine(Seed, client));
            var shared = session!;
            _clients.Add(Task.Run(() => RunClientAsync(client, shared, random, _stop.Token)));
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> operations completed Ok.</summary>
    public async Task WaitForOkOperationsAsync(long count, TimeSpan timeout)
    {
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(OkOperations >= count), timeout, $"{count} successful operations");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Outcomes so far: {DescribeCounters()}{Environment.NewLine}{DescribeLastErrors()}", e);
        }
    }

    /// <summary>Counts by "Kind Outcome" and by "Kind ExceptionType", for the run report.</summary>
    public string DescribeCounters() => string.Join(", ", _counters.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"));

    /// <summary>The last message of each kind of error, to tell a fault's effect from a broken setup.</summary>
    public string DescribeLastErrors() => string.Join(Environment.NewLine, _lastErrors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"  {e.Key}: {e.Value}"));

    /// <summary>Stops issuing operations and waits for those in flight to complete or reach their deadline.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        foreach (var session in _sessions) session.Dispose();
    }

    /// <summary>
    /// Records one linearizable Get of every key through a new session, as client <paramref name="client"/>. Done after
    /// healing and quiescence, so that the checked history ends with the cluster's final value of each key.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, byte[]?>> ReadFinalValuesAsync(int client)
    {
        using var session = new RaftCacheClient(_cluster.Cluster.Client);
        var values = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        foreach (var key in Keys)
        {
            var op = Recorder.Invoke(client, OperationKind.Get, key);
            var value = await session.GetAsync(Encoding.UTF8.GetBytes(key)).WaitAsync(_settings.OperationDeadline);
            Recorder.Complete(op, OperationOutcome.Ok, OperationResult.Read(value));
            values[key] = value;
        }

        return values;
    }

    private async Task RunClientAsync(int client, RaftCacheClient session, Random random, CancellationToken stop)
    {
        // One client in four writes without a session, straight through the façade, as an application that does not
        // use the typed client may. The façade cannot retry such a write once it may have been applied, so a leader
        // killed under it leaves an unknown outcome, which every run must exercise; session writes are retried to
        // an answer and rarely stay unknown. Another one in four reads through a random silo's replica, so that follower
        // reads are exercised whichever silo the typed clients' gateway is.
        var sessionless = client % 4 == 3;
        var written = 0;
        while (!stop.IsCancellationRequested)
        {
            var key = Keys[random.Next(Keys.Count)];
            var keyBytes = Encoding.UTF8.GetBytes(key);
            var roll = random.Next(100);
            if (roll < 45)
            {
                // Unique values let the checker tell every write apart.
                var value = Encoding.UTF8.GetBytes($"c{client}-{written++}");
                await RecordAsync(client, OperationKind.Put, key, value, async () =>
                {
                    if (sessionless) await WriteWithoutSessionAsync(new CacheRequest { Operation = CacheOperation.Put, Key = keyBytes, Value = value });
                    else await session.PutAsync(keyBytes, value);
                    return OperationResult.None;
                });
            }
            else if (roll < 60)
            {
                await RecordAsync(client, OperationKind.Delete, key, null, async () => OperationResult.Deleted(sessionless
                    ? (await WriteWithoutSessionAsync(new CacheRequest { Operation = CacheOperation.Delete, Key = keyBytes })).KeyExisted
                    : await session.DeleteAsync(keyBytes)));
            }
            else
            {
                await RecordAsync(client, OperationKind.Get, key, null, async () => OperationResult.Read(
                    _read is not null ? await _read(client, keyBytes, _settings.RequestTimeout)
                    : client % 4 == 1 ? await ReadThroughAnySiloAsync(keyBytes, random)
                    : await session.GetAsync(keyBytes)));
            }

            // A short, random pause keeps twelve clients from saturating two cores, which would slow failure detection
            // and recovery far more than the faults themselves; it also varies the interleavings.
            await Task.Delay(random.Next(0, 4), CancellationToken.None);
        }
    }

    /// <summary>
    /// A linearizable read served by a random silo's replica, as the façade of that silo would serve it: mostly by a
    /// follower (thesis §6.4), whichever silo the typed clients' gateway happens to be.
    /// </summary>
    private async Task<byte[]?> ReadThroughAnySiloAsync(byte[] key, Random random)
    {
        var silos = _cluster.Cluster.GetActiveSilos().ToList();
        _layout ??= (await _cluster.Facade.GetLimits()).Layout!;
        var group = _layout.GroupOf(key);
        // A silo that holds no replica of the key's group says so: try the next one, starting at a random silo.
        var first = random.Next(silos.Count);
        CacheReply? reply = null;
        for (var i = 0; i < silos.Count; i++)
        {
            reply = await _cluster.Replica(silos[(first + i) % silos.Count]).ReadAsync(key, ReadConsistency.Linearizable, _settings.RequestTimeout, group);
            if (reply.Status != CacheStatusCode.NotLeader || reply.Message?.Contains("holds no replica", StringComparison.Ordinal) != true) break;
        }

        return reply!.Status == CacheStatusCode.Ok ? reply.Value : throw RaftCacheException.From(reply);
    }

    /// <summary>A write with no client session; a failed reply becomes the typed error that says what is known.</summary>
    private async Task<CacheReply> WriteWithoutSessionAsync(CacheRequest write)
    {
        _layout ??= (await _cluster.Facade.GetLimits()).Layout!;
        var reply = await _cluster.Facade.WriteAsync(write with { Group = _layout.GroupOf(write.Key) });
        return reply.Status == CacheStatusCode.Ok ? reply : throw RaftCacheException.From(reply);
    }

    private async Task RecordAsync(int client, OperationKind kind, string key, byte[]? value, Func<Task<OperationResult>> call)
    {
        var op = Recorder.Invoke(client, kind, key, value);
        OperationOutcome outcome;
        var result = OperationResult.None;
        string? failure = null;
        try
        {
            // The façade gives up after RequestTimeout; this bound covers a call lost with a killed gateway silo.
            result = await call().WaitAsync(_settings.OperationDeadline);
            outcome = OperationOutcome.Ok;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            outcome = Classify(e);
            failure = e.GetType().Name;
            _lastErrors[failure] = e.Message;
            result = OperationResult.None;
        }

        Recorder.Complete(op, outcome, result);
        _counters.AddOrUpdate($"{kind} {outcome}", 1, (_, n) => n + 1);
        if (failure is not null) _counters.AddOrUpdate($"{kind} {failure}", 1, (_, n) => n + 1);
    }

    /// <summary>Only errors that guarantee the command was not applied may be recorded as Failed; the rest are Unknown.</summary>
    internal static OperationOutcome Classify(Exception error) => error switch
    {
        CacheUnavailableException or CacheOverloadedException or CacheSessionExpiredException or CacheArgumentException => OperationOutcome.Failed,
        _ => OperationOutcome.Unknown,
    };
}
