using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RaftCache.Linearizability;

/// <summary>
/// The exact linearizability check of a counter key: Increments (each adds one and returns the new value) and Gets, the
/// key starting absent (0). Decided directly from the results, without a search.
/// </summary>
/// <remarks>
/// <para>
/// In any linearization the increments that take effect form a sequence in which the p-th returns p, so a completed
/// Increment that returned r is the r-th, and a Get that read c (absent: 0) sits after the c-th and before the
/// (c+1)-th. Every completed operation therefore has a fixed position (<see cref="Slot"/>): the Increment returning r
/// at slot r, the Get reading c just after slot c. Only the Unknown increments are free, and each either fills one of
/// the slots no completed Increment holds (a gap) or never takes effect (taking effect after everything else changes
/// nothing a completed operation saw).
/// </para>
/// <para>
/// The history is linearizable exactly when (1) completed Increments return distinct values of at least 1 and Gets
/// read "absent" or a positive decimal integer as the cache writes it, (2) real time agrees with the positions: if A
/// completed before B was invoked, A's position is not after B's (equal only for two Gets of the same value), and (3)
/// every gap p up to the highest position P can get its own Unknown increment invoked no later than T(p), the earliest
/// completion of a completed operation positioned after slot p (the increment must precede it, and an Unknown
/// increment never completes, so it only has to start in time). Necessary: each is implied by some linearization.
/// Sufficient: place the completed operations at their positions, Gets of one value in invocation order (which
/// respects real time among them), the chosen Unknown increments in their gaps and the rest nowhere; every pair now
/// respects real time and every result matches, which is what Herlihy and Wing's definition asks.
/// </para>
/// <para>
/// (3) is a bipartite matching of gaps to Unknown increments, each gap p accepting those invoked by T(p). T never
/// decreases as p grows (fewer operations are positioned after a higher slot), so the accepted sets are nested and
/// Hall's condition reduces to a count: for every gap p, the Unknown increments invoked by T(p) must number at least
/// the gaps up to p. One pass over the gaps in order, with the Unknown increments sorted by invocation, decides it.
/// </para>
/// </remarks>
internal static class CounterCheck
{
    /// <summary>Checks the operations on counter <paramref name="key"/> (only Increments and Gets).</summary>
    public static KeyCheckResult Run(string key, IEnumerable<Operation> operations, long deadline, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var relevant = operations
            .Where(op => op.Outcome == OperationOutcome.Ok
                || (op.Outcome == OperationOutcome.Unknown && op.Kind == OperationKind.Increment))
            .OrderBy(op => op.InvokedAt)
            .ThenBy(op => op.Id)
            .ToArray();
        if (start >= deadline || cancellationToken.IsCancellationRequested)
        {
            return Result(key, Verdict.Timeout, relevant.Length, start, [], []);
        }

        var problems = new List<UnplacedOperation>();
        var completed = new List<Placed>();
        var unknown = new List<Operation>();
        foreach (var op in relevant)
        {
            if (op.Outcome == OperationOutcome.Unknown)
            {
                unknown.Add(op);
            }
            else if (op.Kind == OperationKind.Increment)
            {
                if (op.Number is long returned && returned >= 1)
                {
                    completed.Add(new Placed(op, new Slot(returned, IsGet: false)));
                }
                else
                {
                    problems.Add(new UnplacedOperation(op, string.Create(CultureInfo.InvariantCulture,
                        $"returned {op.Number}, but an increment of a counter that starts absent returns 1 at least")));
                }
            }
            else if (TryCount(op.ReadValue, out var count))
            {
                completed.Add(new Placed(op, new Slot(count, IsGet: true)));
            }
            else
            {
                problems.Add(new UnplacedOperation(op,
                    $"read {ValueText.Format(op.ReadValue)}, which no count is written as (absent, or a positive decimal integer)"));
            }
        }

        FindDuplicates(completed, problems);
        FindRealTimeInversions(completed, problems);
        var witness = FillGaps(completed, unknown, problems);
        return problems.Count == 0
            ? Result(key, Verdict.Linearizable, relevant.Length, start, witness!, [])
            : Result(key, Verdict.NotLinearizable, relevant.Length, start, [], problems);
    }

    /// <summary>Two completed Increments cannot return the same value: each takes the counter one higher.</summary>
    private static void FindDuplicates(List<Placed> completed, List<UnplacedOperation> problems)
    {
        var byResult = new Dictionary<long, Operation>();
        foreach (var (op, slot) in completed.Where(p => !p.Slot.IsGet))
        {
            if (!byResult.TryAdd(slot.Count, op))
            {
                problems.Add(new UnplacedOperation(op, string.Create(CultureInfo.InvariantCulture,
                    $"returned {slot.Count}, as #{byResult[slot.Count].Id} did; every increment returns a value of its own")));
            }
        }
    }

    /// <summary>
    /// Real time must agree with the positions: for each operation B, the highest position among the operations that
    /// completed before B was invoked must not be after B's. A sweep in completion order finds that highest position.
    /// </summary>
    private static void FindRealTimeInversions(List<Placed> completed, List<UnplacedOperation> problems)
    {
        var byInvocation = completed.OrderBy(p => p.Op.InvokedAt).ToArray();
        var byCompletion = completed.OrderBy(p => p.Op.CompletedAt!.Value).ToArray();
        Placed? highest = null;
        var next = 0;
        foreach (var b in byInvocation)
        {
            // Strictly before: operations whose intervals only touch are concurrent, as in the register search.
            while (next < byCompletion.Length && byCompletion[next].Op.CompletedAt!.Value < b.Op.InvokedAt)
            {
                if (highest is null || byCompletion[next].Slot.CompareTo(highest.Value.Slot) > 0)
                {
                    highest = byCompletion[next];
                }

                next++;
            }

            if (highest is { } a && a.Slot.CompareTo(b.Slot) > 0)
            {
                problems.Add(new UnplacedOperation(b.Op, string.Create(CultureInfo.InvariantCulture,
                    $"{Describe(b)}, but #{a.Op.Id} {Describe(a)} and completed at {a.Op.CompletedAt} before it was invoked")));
            }
        }
    }

    /// <summary>
    /// Gives every gap below the highest position an Unknown increment invoked in time (see the remarks), and returns
    /// the resulting witness; null, with a problem added, if some gap cannot be filled.
    /// </summary>
    private static List<Operation>? FillGaps(List<Placed> completed, List<Operation> unknown, List<UnplacedOperation> problems)
    {
        if (completed.Count == 0)
        {
            return [];
        }

        var top = completed.MaxBy(p => p.Slot)!;
        var highest = top.Slot.Count;
        var holders = new Dictionary<long, Operation>();
        foreach (var (op, slot) in completed.Where(p => !p.Slot.IsGet))
        {
            holders.TryAdd(slot.Count, op);
        }

        // Bounds the loop below by the history's size, whatever values the results claim.
        var gapCount = highest - holders.Count;
        if (gapCount > unknown.Count)
        {
            problems.Add(new UnplacedOperation(top.Op, string.Create(CultureInfo.InvariantCulture,
                $"{Describe(top)}, which takes {highest} increments, but the history has {holders.Count} completed ones that return up to {highest} and {unknown.Count} of unknown outcome")));
            return null;
        }

        // after[p]: the completed operation positioned after slot p (an Increment returning more than p, a Get reading
        // p or more) that completed first; its completion is T(p).
        var n = (int)highest;
        var after = new Placed?[n + 2];
        var getsAt = new List<Operation>[n + 1];
        foreach (var placed in completed)
        {
            var index = placed.Slot.IsGet ? (int)placed.Slot.Count : (int)placed.Slot.Count - 1;
            if (after[index] is not { } current || placed.Op.CompletedAt < current.Op.CompletedAt)
            {
                after[index] = placed;
            }

            if (placed.Slot.IsGet)
            {
                (getsAt[index] ??= []).Add(placed.Op);
            }
        }

        for (var p = n - 1; p >= 0; p--)
        {
            if (after[p + 1] is { } later && (after[p] is not { } here || later.Op.CompletedAt < here.Op.CompletedAt))
            {
                after[p] = later;
            }
        }

        var pending = unknown.OrderBy(op => op.InvokedAt).ThenBy(op => op.Id).ToArray();
        var witness = new List<Operation>();
        witness.AddRange(getsAt[0] ?? []);
        var available = 0;
        var used = 0;
        for (var p = 1; p <= n; p++)
        {
            if (holders.TryGetValue(p, out var holder))
            {
                witness.Add(holder);
            }
            else
            {
                var deadline = after[p]!.Value;
                while (available < pending.Length && pending[available].InvokedAt <= deadline.Op.CompletedAt)
                {
                    available++;
                }

                if (available <= used)
                {
                    var unknowns = available == 0
                        ? "no increment of unknown outcome was invoked by then"
                        : string.Create(CultureInfo.InvariantCulture, $"the {available} of unknown outcome invoked by then all fill lower gaps");
                    problems.Add(new UnplacedOperation(deadline.Op, string.Create(CultureInfo.InvariantCulture,
                        $"{Describe(deadline)}, so the increment that made the count {p} took effect before it completed at {deadline.Op.CompletedAt}; no completed increment returned {p}, and {unknowns}")));
                    return null;
                }

                // Any increment invoked in time will do: the ones invoked in time for this gap are in time for every
                // later gap too.
                witness.Add(pending[used++]);
            }

            witness.AddRange(getsAt[p] ?? []);
        }

        return witness;
    }

    /// <summary>The count a Get's value stands for: absent is 0, otherwise the value as the cache writes it.</summary>
    private static bool TryCount(byte[]? value, out long count)
    {
        count = 0;
        if (value is null)
        {
            return true;
        }

        // Only the canonical form: the cache writes a count with invariant formatting, so "+1" or "01" was never written.
        return long.TryParse(Encoding.UTF8.GetString(value), NumberStyles.None, CultureInfo.InvariantCulture, out count)
            && count >= 1
            && Encoding.UTF8.GetBytes(count.ToString(CultureInfo.InvariantCulture)).AsSpan().SequenceEqual(value);
    }

    private static string Describe(Placed placed) =>
        (placed.Slot.IsGet ? "read " : "returned ") + placed.Slot.Count.ToString(CultureInfo.InvariantCulture);

    private static KeyCheckResult Result(string key, Verdict verdict, int count, long start, IReadOnlyList<Operation> witness, IReadOnlyList<UnplacedOperation> problems) =>
        new(key, verdict, count, count, Stopwatch.GetElapsedTime(start), witness, finalState: null, problems, KeyModel.Counter);

    /// <summary>A completed operation's fixed place: the Increment returning Count at slot Count, a Get reading Count just after it.</summary>
    private readonly record struct Slot(long Count, bool IsGet) : IComparable<Slot>
    {
        public int CompareTo(Slot other)
        {
            var byCount = Count.CompareTo(other.Count);
            return byCount != 0 ? byCount : IsGet.CompareTo(other.IsGet);
        }
    }

    private readonly record struct Placed(Operation Op, Slot Slot);
}
