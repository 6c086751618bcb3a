namespace RaftCache.Linearizability.Tests;

/// <summary>
/// The checker against an exhaustive search over every order of tiny random histories, most of them not linearizable.
/// This is what shows that the checker's pruning (memoization, reads first, Unknown writes only when observed,
/// interchangeable Unknown writes, unread values merged) never changes a verdict.
/// </summary>
public class BruteForceComparisonTests
{
    private static readonly string[] Values = ["a", "b", "c"];

    private static History TinyRandomHistory(Random random)
    {
        var h = new HistoryBuilder();
        var count = random.Next(1, 7);
        var written = 0;
        for (var i = 0; i < count; i++)
        {
            var start = random.Next(10);
            var end = start + random.Next(6);
            var outcome = random.Next(6) switch { 0 => OperationOutcome.Unknown, 1 => OperationOutcome.Failed, _ => OperationOutcome.Ok };
            switch (random.Next(3))
            {
                case 0:
                    var value = $"v{written++}";
                    _ = outcome switch
                    {
                        OperationOutcome.Ok => h.Put(i, value, start, end),
                        OperationOutcome.Failed => h.FailedPut(i, value, start, end),
                        _ => h.UnknownPut(i, value, start),
                    };
                    break;
                case 1:
                    bool? existed = random.Next(3) switch { 0 => true, 1 => false, _ => null };
                    _ = outcome == OperationOutcome.Ok ? h.Delete(i, existed, start, end) : h.UnknownDelete(i, start);
                    break;
                default:
                    // Mostly values that were or will be written, sometimes absent or a value nobody writes.
                    var read = random.Next(5) == 0 ? null : random.Next(8) == 0 ? Values[random.Next(Values.Length)] : $"v{random.Next(Math.Max(1, written + 1))}";
                    _ = outcome == OperationOutcome.Unknown ? h.UnknownGet(i, start) : h.Get(i, read, start, end);
                    break;
            }
        }

        return h.Build();
    }

    /// <summary>Tries every order of the operations that respects real time, and every subset of Unknown writes.</summary>
    private static bool BruteForceLinearizable(History history)
    {
        var ops = history.Operations
            .Where(op => op.Outcome == OperationOutcome.Ok || (op.Outcome == OperationOutcome.Unknown && op.Kind != OperationKind.Get))
            .ToArray();
        var placed = new bool[ops.Length];

        long End(Operation op) => op.Outcome == OperationOutcome.Ok ? op.CompletedAt!.Value : long.MaxValue;

        bool Search(byte[]? state, int remaining)
        {
            if (remaining == 0)
            {
                return true;
            }

            for (var i = 0; i < ops.Length; i++)
            {
                if (placed[i] || Enumerable.Range(0, ops.Length).Any(j => !placed[j] && j != i && End(ops[j]) < ops[i].InvokedAt))
                {
                    continue;
                }

                var op = ops[i];
                byte[]? next;
                switch (op.Kind)
                {
                    case OperationKind.Put:
                        next = op.Value;
                        break;
                    case OperationKind.Delete:
                        if (op.Existed is bool existed && existed != (state is not null))
                        {
                            continue;
                        }

                        next = null;
                        break;
                    default:
                        if (!(state ?? []).SequenceEqual(op.ReadValue ?? []) || (state is null) != (op.ReadValue is null))
                        {
                            continue;
                        }

                        next = state;
                        break;
                }

                placed[i] = true;
                var found = Search(next, remaining - (op.Outcome == OperationOutcome.Ok ? 1 : 0));
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

    [Fact]
    public void The_checker_agrees_with_an_exhaustive_search_on_thousands_of_tiny_histories()
    {
        var random = new Random(20260101);
        var verdicts = new int[2];
        for (var i = 0; i < 3_000; i++)
        {
            var history = TinyRandomHistory(random);
            var expected = BruteForceLinearizable(history);

            var result = Checks.Check(history);

            Assert.True(
                result.Verdict == (expected ? Verdict.Linearizable : Verdict.NotLinearizable),
                $"history {i}, expected {(expected ? "linearizable" : "not linearizable")}:\n"
                    + string.Join("\n", history.Operations) + "\n" + result.Explain());
            verdicts[expected ? 1 : 0]++;
        }

        // Both verdicts are well represented, so the comparison tests both directions.
        Assert.True(verdicts[0] > 500 && verdicts[1] > 500, $"not linearizable {verdicts[0]}, linearizable {verdicts[1]}");
    }
}
