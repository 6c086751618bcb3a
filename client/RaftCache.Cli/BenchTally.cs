namespace RaftCache.Cli;

/// <summary>
/// The counts of one bench phase (or one worker of it): operations that succeeded, gets among them that found no
/// value, and operations that failed, by exception type. Throughput is computed from the successes only: a failed
/// operation, often one rejected at once, must not read as work done.
/// </summary>
/// <remarks>Not thread-safe: each worker keeps its own and the phase adds them up at the end.</remarks>
internal sealed class BenchTally
{
    private readonly Dictionary<string, ErrorCount> _errors = new(StringComparer.Ordinal);

    /// <summary>Operations that completed without an error, misses included.</summary>
    public long Successes { get; private set; }

    /// <summary>Gets that completed but found no value (counted in <see cref="Successes"/> too).</summary>
    public long Misses { get; private set; }

    /// <summary>Operations that failed.</summary>
    public long Errors { get; private set; }

    /// <summary>Every operation that completed, successfully or not.</summary>
    public long Attempts => Successes + Errors;

    /// <summary>The failures by exception type name, most frequent first.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> ErrorsByType =>
        [.. _errors.OrderByDescending(e => e.Value.Count).ThenBy(e => e.Key, StringComparer.Ordinal).Select(e => KeyValuePair.Create(e.Key, e.Value.Count))];

    /// <summary>The exit code of an error type, as a single command failing with it would exit.</summary>
    public int ExitCodeOf(string errorType) => _errors.TryGetValue(errorType, out var count) ? count.ExitCode : ExitCodes.Failure;

    /// <summary>Counts a successful operation.</summary>
    public void Success() => Successes++;

    /// <summary>Counts a get that succeeded but found no value.</summary>
    public void Miss()
    {
        Successes++;
        Misses++;
    }

    /// <summary>Counts a failed operation under the type of <paramref name="error"/>.</summary>
    public void Error(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error(error.GetType().Name, ExitCodes.ForError(error));
    }

    /// <summary>Counts a failed operation of type <paramref name="type"/>, whose single-command exit code is <paramref name="exitCode"/>.</summary>
    public void Error(string type, int exitCode, long count = 1)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _errors[type] = new ErrorCount(_errors.GetValueOrDefault(type).Count + count, exitCode);
        Errors += count;
    }

    /// <summary>Adds <paramref name="other"/>'s counts to this one.</summary>
    public void Add(BenchTally other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Successes += other.Successes;
        Misses += other.Misses;
        foreach (var (type, count) in other._errors) Error(type, count.ExitCode, count.Count);
    }

    /// <summary>Successful operations per second over <paramref name="seconds"/>; 0 for an empty interval.</summary>
    public double OpsPerSecond(double seconds) => seconds > 0 ? Successes / seconds : 0;

    /// <summary>
    /// The exit code of a bench run with these phases: <see cref="ExitCodes.Ok"/> without errors; with errors, the
    /// exit code all of them share (a value over the limit, rejected with <c>CacheArgumentException</c>, exits
    /// <see cref="ExitCodes.InvalidArgument"/>), or <see cref="ExitCodes.BenchErrors"/> when they have different ones.
    /// </summary>
    public static int ExitCode(IEnumerable<BenchTally> phases)
    {
        ArgumentNullException.ThrowIfNull(phases);
        var codes = phases.SelectMany(p => p._errors.Values).Where(e => e.Count > 0).Select(e => e.ExitCode).Distinct().ToList();
        return codes.Count switch
        {
            0 => ExitCodes.Ok,
            1 => codes[0],
            _ => ExitCodes.BenchErrors,
        };
    }

    private readonly record struct ErrorCount(long Count, int ExitCode);
}
