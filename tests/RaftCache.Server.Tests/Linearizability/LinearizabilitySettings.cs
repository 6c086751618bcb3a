using System.Globalization;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>
/// How many seeded fault runs to do and how long each one lasts. The defaults keep the normal test command short; the
/// environment variables below run the long version (docs/linearizability.md).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>RAFTCACHE_LINEARIZABILITY_RUNS</c>: number of seeds (default 3).</item>
/// <item><c>RAFTCACHE_LINEARIZABILITY_SEED</c>: the first seed; the others follow it (default 1). Replays a failed run.</item>
/// <item><c>RAFTCACHE_LINEARIZABILITY_SECONDS</c>: seconds of workload under faults per run (default 15).</item>
/// <item><c>RAFTCACHE_LINEARIZABILITY_HISTORY_DIR</c>: where histories are written (default a temp folder).</item>
/// <item><c>RAFTCACHE_LINEARIZABILITY_KEEP_HISTORIES</c>: <c>1</c> writes every run's history, not only failed ones.</item>
/// </list>
/// </remarks>
public sealed record LinearizabilitySettings
{
    public const string RunsVariable = "RAFTCACHE_LINEARIZABILITY_RUNS";
    public const string SeedVariable = "RAFTCACHE_LINEARIZABILITY_SEED";
    public const string SecondsVariable = "RAFTCACHE_LINEARIZABILITY_SECONDS";
    public const string HistoryDirectoryVariable = "RAFTCACHE_LINEARIZABILITY_HISTORY_DIR";
    public const string KeepHistoriesVariable = "RAFTCACHE_LINEARIZABILITY_KEEP_HISTORIES";

    public int Runs { get; init; } = 3;

    public int FirstSeed { get; init; } = 1;

    /// <summary>How long the workload runs under the fault schedule, before healing.</summary>
    public TimeSpan WorkloadDuration { get; init; } = TimeSpan.FromSeconds(15);

    public string HistoryDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "raftcache-linearizability");

    public bool KeepHistories { get; init; }

    /// <summary>The façade's deadline per request; short, so that faults turn into Unknown outcomes, not long stalls.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The client-side bound on one operation: the façade's deadline plus a margin for a call stuck on a dead gateway
    /// (the Orleans client's own response timeout is 10 s in these tests).
    /// </summary>
    public TimeSpan OperationDeadline => RequestTimeout + TimeSpan.FromSeconds(1);

    /// <summary>Logical clients, each with its own cache session, issuing one operation at a time.</summary>
    public int Clients { get; init; } = 12;

    /// <summary>
    /// Keys shared by the clients. With 12 clients over 4 keys each key sees about three concurrent operations at any
    /// time, well within what the checker searches quickly (about 12 concurrent clients per key).
    /// </summary>
    public int Keys { get; init; } = 4;

    /// <summary>Counter keys, apart from <see cref="Keys"/>: only increments of one and gets (15 % of the operations).</summary>
    public int CounterKeys { get; init; } = 2;

    /// <summary>Silos at start: three voters and one learner, so that a voter can be lost without shrinking the group.</summary>
    public int InitialSilos { get; init; } = 4;

    /// <summary>Raft groups the keys are sharded over (the multi-group run uses several; histories are checked per key).</summary>
    public int Groups { get; init; } = 1;

    /// <summary>The checker's budget; a Timeout verdict fails the run.</summary>
    public TimeSpan CheckBudget { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the group may take to become stable again after a fault (a killed silo is declared dead in ~2 s).</summary>
    public TimeSpan RecoveryDeadline { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>Each key must see at least this many operations that overlap an operation of another client.</summary>
    public int MinOverlappingPerKey { get; init; } = 100;

    public static LinearizabilitySettings FromEnvironment()
    {
        var settings = new LinearizabilitySettings();
        if (Integer(RunsVariable) is { } runs) settings = settings with { Runs = runs };
        if (Integer(SeedVariable) is { } seed) settings = settings with { FirstSeed = seed };
        if (Integer(SecondsVariable) is { } seconds) settings = settings with { WorkloadDuration = TimeSpan.FromSeconds(seconds) };
        if (Environment.GetEnvironmentVariable(HistoryDirectoryVariable) is { Length: > 0 } directory) settings = settings with { HistoryDirectory = directory };
        if (Environment.GetEnvironmentVariable(KeepHistoriesVariable) is "1" or "true") settings = settings with { KeepHistories = true };
        return settings;
    }

    /// <summary>The seeds to run, one per test case.</summary>
    public IEnumerable<int> Seeds => Enumerable.Range(FirstSeed, Runs);

    private static int? Integer(string variable)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text)) return null;
        // A typo in a variable must not silently fall back to the short default.
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new InvalidOperationException($"{variable} must be a positive integer (is '{text}').");
    }
}
