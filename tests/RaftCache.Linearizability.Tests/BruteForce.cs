using System.Globalization;
using System.Text;

namespace RaftCache.Linearizability.Tests;

/// <summary>
/// The definition of linearizability applied literally, for tiny histories: every order of the operations that
/// respects real time, with every subset of the Unknown writes, run against the cache's own semantics on bytes.
/// Nothing is shared with the checker: no value ids, no reductions, no counter positions.
/// </summary>
internal static class BruteForce
{
    public static bool IsLinearizable(History history) =>
        history.Operations.GroupBy(op => op.Key, StringComparer.Ordinal).All(key => IsLinearizable(key.ToArray()));

    private static bool IsLinearizable(Operation[] operations)
    {
        var ops = operations
            .Where(op => op.Outcome == OperationOutcome.Ok || (op.Outcome == OperationOutcome.Unknown && op.Kind != OperationKind.Get))
            .ToArray();
        var placed = new bool[ops.Length];

        long End(Operation op) => op.Outcome == OperationOutcome.Ok ? op.CompletedAt!.Value : long.MaxValue;

        bool Search(byte[]? state, int remaining)
        {
            if (remaining == 0)
            {
                // Unknown writes not placed took effect after everything else, or never.
                return true;
            }

            for (var i = 0; i < ops.Length; i++)
            {
                if (placed[i] || Enumerable.Range(0, ops.Length).Any(j => !placed[j] && j != i && End(ops[j]) < ops[i].InvokedAt))
                {
                    continue;
                }

                if (!Step(ops[i], state, out var next))
                {
                    continue;
                }

                placed[i] = true;
                var found = Search(next, remaining - (ops[i].Outcome == OperationOutcome.Ok ? 1 : 0));
                placed[i] = false;
                if (found)
                {
                    return true;
                }
            }

            return false;
        }

        return Search(null, ops.Count(op => op.Outcome == OperationOutcome.Ok));
    }

    /// <summary>
    /// Whether <paramref name="witness"/>, a checker's linearization of one key, is one: every completed operation of the
    /// key appears once, along with any Unknown writes, in an order that respects real time, and replaying it gives
    /// every recorded result.
    /// </summary>
    public static bool IsLegalWitness(IEnumerable<Operation> keyOperations, IReadOnlyList<Operation> witness)
    {
        var completed = keyOperations.Where(op => op.Outcome == OperationOutcome.Ok).ToHashSet();
        if (witness.Distinct().Count() != witness.Count
            || !completed.IsSubsetOf(witness)
            || witness.Any(op => op.Outcome == OperationOutcome.Failed || (op.Outcome == OperationOutcome.Unknown && op.Kind == OperationKind.Get)))
        {
            return false;
        }

        byte[]? state = null;
        for (var i = 0; i < witness.Count; i++)
        {
            // An operation that completed before an earlier-placed one was invoked cannot come after it.
            if (!Step(witness[i], state, out state)
                || witness.Take(i).Any(earlier => witness[i].Outcome == OperationOutcome.Ok && witness[i].CompletedAt < earlier.InvokedAt))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>What the cache does with <paramref name="op"/> on <paramref name="state"/>, and whether the recorded result fits.</summary>
    private static bool Step(Operation op, byte[]? state, out byte[]? next)
    {
        var ok = op.Outcome == OperationOutcome.Ok;
        switch (op.Kind)
        {
            case OperationKind.Put:
                next = op.Value;
                return true;
            case OperationKind.Delete:
                next = null;
                return op.Existed is not bool existed || existed == (state is not null);
            case OperationKind.Get:
                next = state;
                return Same(state, op.ReadValue);
            case OperationKind.CompareAndSet:
                var matches = Same(state, op.ExpectedValue);
                next = matches ? op.Value : state;
                return !ok || op.Succeeded == matches;
            default:
                var current = state is null ? 0 : long.Parse(Encoding.UTF8.GetString(state), CultureInfo.InvariantCulture);
                next = Encoding.UTF8.GetBytes((current + 1).ToString(CultureInfo.InvariantCulture));
                return !ok || op.Number == current + 1;
        }
    }

    private static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
