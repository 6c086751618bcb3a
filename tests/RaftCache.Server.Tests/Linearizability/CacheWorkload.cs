using System.Collections.Concurrent;
using System.Text;
using RaftCache.Client;
using RaftCache.Linearizability;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>
/// Logical clients issuing puts of unique values, compare-and-sets, put-if-absents, deletes and gets over a few shared
/// register keys, and increments and gets over a few counter keys, one operation at a time each, and recording every
/// one in a <see cref="HistoryRecorder"/>. Clients share typed clients in threes (so a session each three), each
/// limited to one call in flight: their concurrent operations travel in batches, as an application's requests do
/// through its one <see cref="RaftCacheClient"/> under load.
/// </summary>
/// <remarks>
/// <para>
/// Outcomes: Ok with the result; Failed only for the typed errors that guarantee nothing was applied
/// (<see cref="CacheUnavailableException"/>, <see cref="CacheOverloadedException"/>,
/// <see cref="CacheSessionExpiredException"/>, <see cref="CacheArgumentException"/>, <see cref="CacheValueException"/>);
/// Unknown for everything else, including <see cref="CacheOutcomeUnknownException"/>, the client-side deadline and
/// Orleans exceptions. A compare-and-set whose condition did not hold is Ok, with the result "not set".
/// </para>
/// <para>
/// A compare-and-set is recorded with the value it expects, not the version it passes: the client reads the key with
/// <see cref="RaftCacheClient.GetEntryAsync"/> (recorded as a Get) and passes the version that came with the value,
/// or, after a compare-and-set of its own succeeded, the version that returned with the value it wrote. Every write
/// stores a value no other write stores, and a version is the log index of the one write that stored the key's
/// current value, so "the key is at that version" and "the key holds that value" are the same condition.
/// </para>
/// </remarks>
internal sealed class CacheWorkload : IAsyncDisposable
{
    private readonly CacheCluster _cluster;
    private readonly LinearizabilitySettings _settings;
    private readonly Func<int, byte[], TimeSpan, Task<byte[]?>>? _read;
    private readonly string _valuePrefix;
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
    /// <param name="valuePrefix">Starts every value written, so that two workloads of one test never write the same value.</param>
    public CacheWorkload(CacheCluster cluster, HistoryRecorder recorder, LinearizabilitySettings settings, int seed,
        Func<int, byte[], TimeSpan, Task<byte[]?>>? read = null, string valuePrefix = "c")
    {
        _cluster = cluster;
        Recorder = recorder;
        _settings = settings;
        _read = read;
        _valuePrefix = valuePrefix;
        Keys = [.. Enumerable.Range(0, settings.Keys).Select(k => $"k{k}")];
        CounterKeys = [.. Enumerable.Range(0, settings.CounterKeys).Select(k => $"n{k}")];
        Seed = seed;
    }

    /// <summary>Logical clients that share one typed client, so that their operations are batched together.</summary>
    public const int ClientsPerSession = 3;

    /// <summary>Of the operations, the percentage on counter keys (when there are any).</summary>
    private const int CounterSharePercent = 15;

    public HistoryRecorder Recorder { get; }

    /// <summary>Batch calls the workload's typed clients sent, and the operations they carried.</summary>
    public (long Calls, long Commands) Batches => (_sessions.Sum(s => s.BatchStatistics.Calls), _sessions.Sum(s => s.BatchStatistics.Commands));

    /// <summary>The register keys: puts, compare-and-sets, put-if-absents, deletes and gets.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>The counter keys: increments of one, and gets.</summary>
    public IReadOnlyList<string> CounterKeys { get; }

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
    /// Records one linearizable Get of every key, counters included, through a new session, as client
    /// <paramref name="client"/>. Done after healing and quiescence, so that the checked history ends with the cluster's
    /// final value of each key (for a counter: the number of increments applied, which every gap must account for).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, byte[]?>> ReadFinalValuesAsync(int client)
    {
        using var session = new RaftCacheClient(_cluster.Cluster.Client);
        var values = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        foreach (var key in Keys.Concat(CounterKeys))
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
        byte[] UniqueValue() => Encoding.UTF8.GetBytes($"{_valuePrefix}{client}-{written++}");
        while (!stop.IsCancellationRequested)
        {
            if (CounterKeys.Count > 0 && random.Next(100) < CounterSharePercent)
            {
                await RunCounterOperationAsync(client, session, sessionless, random);
            }
            else
            {
                var key = Keys[random.Next(Keys.Count)];
                var keyBytes = Encoding.UTF8.GetBytes(key);
                var roll = random.Next(100);
                if (roll < 30)
                {
                    // Unique values let the checker tell every write apart.
                    var value = UniqueValue();
                    await RecordAsync(client, OperationKind.Put, key, value, async () =>
                    {
                        if (sessionless) await WriteWithoutSessionAsync(new CacheRequest { Operation = CacheOperation.Put, Key = keyBytes, Value = value });
                        else await session.PutAsync(keyBytes, value);
                        return OperationResult.None;
                    });
                }
                else if (roll < 39)
                {
                    await ReadThenCompareAndSetAsync(client, session, sessionless, key, random, UniqueValue);
                }
                else if (roll < 45)
                {
                    var value = UniqueValue();
                    await RecordAsync(client, OperationKind.CompareAndSet, key, value, async () => OperationResult.CompareAndSet(sessionless
                        ? (await WriteWithoutSessionAsync(new CacheRequest { Operation = CacheOperation.Put, Key = keyBytes, Value = value, ExpectedVersion = 0 })).Status == CacheStatusCode.Ok
                        : await session.TryAddAsync(keyBytes, value)), expected: null, label: "TryAdd");
                }
                else if (roll < 60)
                {
                    await RecordAsync(client, OperationKind.Delete, key, null, async () => OperationResult.Deleted(sessionless
                        ? (await WriteWithoutSessionAsync(new CacheRequest { Operation = CacheOperation.Delete, Key = keyBytes })).KeyExisted
                        : await session.DeleteAsync(keyBytes)));
                }
                else
                {
                    await RecordAsync(client, OperationKind.Get, key, null, async () => OperationResult.Read(await ReadAsync(client, session, keyBytes, random)));
                }
            }

            // A short, random pause keeps twelve clients from saturating two cores, which would slow failure detection
            // and recovery far more than the faults themselves; it also varies the interleavings.
            await Task.Delay(random.Next(0, 4), CancellationToken.None);
        }
    }

    /// <summary>
    /// Reads the key's entry, then sets a new value on the version read (absent: version 0); if that succeeds, half the
    /// time sets another on the version it returned. The read is a Get of the history; each compare-and-set records
    /// the value that went with its version as the one it expects.
    /// </summary>
    private async Task ReadThenCompareAndSetAsync(int client, RaftCacheClient session, bool sessionless, string key, Random random, Func<byte[]> uniqueValue)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        CacheEntry? entry = null;
        var read = await RecordAsync(client, OperationKind.Get, key, null, async () =>
        {
            entry = await session.GetEntryAsync(keyBytes);
            return OperationResult.Read(entry?.Value);
        }, label: "GetEntry");
        if (read != OperationOutcome.Ok) return;

        var (expected, version) = entry is null ? (null, 0L) : (entry.Value, entry.Version);
        for (var chained = 0; chained < 2; chained++)
        {
            var value = uniqueValue();
            CompareAndSetResult result = default;
            var outcome = await RecordAsync(client, OperationKind.CompareAndSet, key, value, async () =>
            {
                result = sessionless
                    ? ToResult(await WriteWithoutSessionAsync(new CacheRequest { Operation = CacheOperation.Put, Key = keyBytes, Value = value, ExpectedVersion = version }))
                    : await session.CompareAndSetAsync(keyBytes, value, version);
                return OperationResult.CompareAndSet(result.Succeeded);
            }, expected, label: chained == 0 ? "CompareAndSet" : "CompareAndSetAgain");
            if (outcome != OperationOutcome.Ok || !result.Succeeded || random.Next(2) == 0) return;
            (expected, version) = (value, result.Version);
        }

        static CompareAndSetResult ToResult(CacheReply reply) => new(reply.Status == CacheStatusCode.Ok, reply.Version);
    }

    /// <summary>An increment of one on a counter key (most of the time), or a Get of it.</summary>
    private async Task RunCounterOperationAsync(int client, RaftCacheClient session, bool sessionless, Random random)
    {
        var key = CounterKeys[random.Next(CounterKeys.Count)];
        var keyBytes = Encoding.UTF8.GetBytes(key);
        if (random.Next(5) == 0)
        {
            await RecordAsync(client, OperationKind.Get, key, null, async () => OperationResult.Read(await ReadAsync(client, session, keyBytes, random)), label: "CounterGet");
            return;
        }

        await RecordAsync(client, OperationKind.Increment, key, null, async () => OperationResult.Incremented(sessionless
            ? (await WriteWithoutSessionAsync(new CacheRequest { Operation = CacheOperation.Increment, Key = keyBytes, Delta = 1 })).Number
            : await session.IncrementAsync(keyBytes)));
    }

    /// <summary>A Get: through the read override if there is one, through a random silo for one client in four, otherwise through the session.</summary>
    private async Task<byte[]?> ReadAsync(int client, RaftCacheClient session, byte[] key, Random random) =>
        _read is not null ? await _read(client, key, _settings.RequestTimeout)
        : client % 4 == 1 ? await ReadThroughAnySiloAsync(key, random)
        : await session.GetAsync(key);

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

    /// <summary>
    /// A write with no client session; a failed reply becomes the typed error that says what is known. A condition that
    /// did not hold is an answer (the reply says so), as for the typed client.
    /// </summary>
    private async Task<CacheReply> WriteWithoutSessionAsync(CacheRequest write)
    {
        _layout ??= (await _cluster.Facade.GetLimits()).Layout!;
        var reply = await _cluster.Facade.WriteAsync(write with { Group = _layout.GroupOf(write.Key) });
        return reply.Status is CacheStatusCode.Ok or CacheStatusCode.ConditionFailed ? reply : throw RaftCacheException.From(reply);
    }

    /// <summary>
    /// Records <paramref name="call"/> as one operation of <paramref name="kind"/> on <paramref name="key"/> by
    /// <paramref name="client"/>, writing <paramref name="value"/> and expecting <paramref name="expected"/> (a
    /// compare-and-set's expected value; null is absent), and returns its outcome; <paramref name="label"/> names it in
    /// the outcome counts (the kind by default).
    /// </summary>
    private async Task<OperationOutcome> RecordAsync(int client, OperationKind kind, string key, byte[]? value, Func<Task<OperationResult>> call,
        byte[]? expected = null, string? label = null)
    {
        var op = Recorder.Invoke(client, kind, key, value, expected);
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
        label ??= kind.ToString();
        _counters.AddOrUpdate($"{label} {outcome}", 1, (_, n) => n + 1);
        if (failure is not null) _counters.AddOrUpdate($"{label} {failure}", 1, (_, n) => n + 1);
        return outcome;
    }

    /// <summary>Only errors that guarantee the command was not applied may be recorded as Failed; the rest are Unknown.</summary>
    internal static OperationOutcome Classify(Exception error) => error switch
    {
        CacheUnavailableException or CacheOverloadedException or CacheSessionExpiredException or CacheArgumentException
            or CacheValueException => OperationOutcome.Failed,
        _ => OperationOutcome.Unknown,
    };
}
