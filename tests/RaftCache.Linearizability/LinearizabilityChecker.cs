using System.Collections.Concurrent;
using System.Diagnostics;

namespace RaftCache.Linearizability;

/// <summary>Checks recorded histories of the cache against an atomic key-value register.</summary>
/// <remarks>
/// <para>
/// The model: each key holds a value or is absent (initially absent). <c>Put(v)</c> sets the value; <c>Delete</c>
/// removes it and, when its result is recorded, reports whether the key existed; <c>Get</c> returns the current value;
/// <c>CompareAndSet(v, expected e)</c> sets v if the key holds e (or is absent, when e is absent) and reports whether it
/// did. A key with <c>Increment</c>s is a counter instead: each Increment adds one to the value, read as a decimal
/// integer with absent as 0, and returns the new value; only Increments and Gets may use such a key.
/// A history is linearizable (Herlihy and Wing 1990) if every operation can be given an instant between its invocation
/// and its completion such that, executed one by one in that order, the model produces every recorded result.
/// </para>
/// <para>
/// Keys are independent registers, and linearizability is local: the history is linearizable exactly when each key's
/// sub-history is (Porcupine calls this P-compositionality). Each key is therefore searched on its own, in parallel.
/// The search is Wing and Gong's (1993) depth-first search over a linked list of call and return events, with Lowe's
/// (2017, "Testing for linearizability") memoization of (set of linearized operations, register state) pairs, as in
/// Porcupine. Counter keys need no search: with increments of one from absent, every completed operation's place in
/// the order is fixed by its result, and an exact check of those places against real time decides the key (see
/// <c>CounterCheck</c>).
/// </para>
/// <para>
/// Before checking: Failed operations are dropped (they were not applied); Unknown Gets are dropped (they constrain
/// nothing); Unknown writes (Puts, Deletes, CompareAndSets, Increments) may take effect at any instant after their
/// invocation, or never, so their completion is +infinity and the search succeeds once every completed operation is
/// placed.
/// </para>
/// </remarks>
public static class LinearizabilityChecker
{
    /// <summary>Checks <paramref name="history"/>, giving up after <paramref name="timeout"/>.</summary>
    /// <param name="history">The history to check.</param>
    /// <param name="timeout">
    /// The budget for the whole check, or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>. Keys whose search
    /// has not finished when it runs out are reported as <see cref="Verdict.Timeout"/>.
    /// </param>
    /// <param name="cancellationToken">Cancels the check; keys not finished by then are reported as Timeout.</param>
    /// <returns>The verdict per key and overall, with explanations for keys that are not linearizable.</returns>
    /// <exception cref="ArgumentException">A key has Increments and also Puts, Deletes or CompareAndSets.</exception>
    public static CheckResult Check(History history, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (timeout < TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The budget must be non-negative or infinite.");
        }

        var start = Stopwatch.GetTimestamp();
        var deadline = Deadline(start, timeout);
        var keys = history.Operations
            .GroupBy(op => op.Key, StringComparer.Ordinal)
            .OrderBy(group => group.Key, StringComparer.Ordinal)
            .ToArray();
        // A key with Increments is a counter. The counter check knows only increments of one from absent; a key that is
        // also written otherwise would need a model of both, which no workload here produces.
        var counters = keys.Select(key => key.Any(op => op.Kind == OperationKind.Increment)).ToArray();
        for (var i = 0; i < keys.Length; i++)
        {
            if (counters[i] && keys[i].FirstOrDefault(op => op.Kind is not (OperationKind.Increment or OperationKind.Get)) is { } other)
            {
                throw new ArgumentException(
                    $"Key {ValueText.Key(keys[i].Key)} has Increments and also {other.Kind} operations (#{other.Id}); a counter key may only have Increments and Gets.",
                    nameof(history));
            }
        }

        var results = new KeyCheckResult[keys.Length];

        // Keys are independent, so they are checked in parallel, smallest first: small keys are usually quick, and
        // settling them before a large key uses up the budget gives more definite verdicts. NoBuffering makes workers
        // take keys one at a time in that order. Each search polls the shared deadline itself rather than through
        // ParallelOptions.CancellationToken, so that running out of budget is a verdict, not an exception.
        var order = Enumerable.Range(0, keys.Length).OrderBy(i => keys[i].Count()).ThenBy(i => i).ToArray();
        Parallel.ForEach(
            Partitioner.Create(order, EnumerablePartitionerOptions.NoBuffering),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => results[i] = counters[i]
                ? CounterCheck.Run(keys[i].Key, keys[i], deadline, cancellationToken)
                : RegisterSearch.Create(keys[i].Key, keys[i]).Run(deadline, cancellationToken));
        return new CheckResult(results, Stopwatch.GetElapsedTime(start));
    }

    private static long Deadline(long start, TimeSpan timeout)
    {
        if (timeout == System.Threading.Timeout.InfiniteTimeSpan)
        {
            return long.MaxValue;
        }

        var ticks = timeout.TotalSeconds * Stopwatch.Frequency;
        return ticks >= long.MaxValue - start ? long.MaxValue : start + (long)ticks;
    }
}
