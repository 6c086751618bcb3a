namespace RaftCache.Linearizability.Tests;

/// <summary>
/// The checker against an exhaustive search over every order of tiny random histories (<see cref="BruteForce"/>), many
/// of them not linearizable. This is what shows that the checker's pruning (memoization, reads first, Unknown writes
/// only when observed, interchangeable Unknown writes, unread values merged, unobservable Unknown writes dropped) never
/// changes a verdict, compare-and-set included, and that the counter check is exact.
/// </summary>
public class BruteForceComparisonTests
{
    private static readonly string[] Values = ["a", "b", "c"];

    private static OperationOutcome RandomOutcome(Random random) =>
        random.Next(6) switch { 0 => OperationOutcome.Unknown, 1 => OperationOutcome.Failed, _ => OperationOutcome.Ok };

    /// <summary>
    /// One outcome in three Unknown: the reductions about Unknown writes (dropped up front, placed only when observed
    /// at once, one Unknown CompareAndSet enabling another) only matter when several meet in one tiny history.
    /// </summary>
    private static OperationOutcome MostlyUnknownOutcome(Random random) =>
        random.Next(3) == 0 ? OperationOutcome.Unknown : random.Next(6) == 0 ? OperationOutcome.Failed : OperationOutcome.Ok;

    /// <summary>Mostly values that were or will be written, sometimes absent or a value nobody writes.</summary>
    private static string? RandomValue(Random random, int written) =>
        random.Next(5) == 0 ? null : random.Next(8) == 0 ? Values[random.Next(Values.Length)] : $"v{random.Next(Math.Max(1, written + 1))}";

    private static History TinyRandomHistory(Random random, bool compareAndSet)
    {
        var h = new HistoryBuilder();
        var count = random.Next(1, 7);
        var written = 0;
        for (var i = 0; i < count; i++)
        {
            var start = random.Next(10);
            var end = start + random.Next(6);
            var outcome = compareAndSet ? MostlyUnknownOutcome(random) : RandomOutcome(random);
            switch (random.Next(compareAndSet ? 5 : 3))
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
                case 2:
                    var read = RandomValue(random, written);
                    _ = outcome == OperationOutcome.Unknown ? h.UnknownGet(i, start) : h.Get(i, read, start, end);
                    break;
                default:
                    // Expecting absent (put-if-absent), a value written before or later, or one nobody writes.
                    var expected = RandomValue(random, written);
                    var set = $"v{written++}";
                    _ = outcome switch
                    {
                        OperationOutcome.Ok => h.Cas(i, set, expected, succeeded: random.Next(2) == 0, start, end),
                        OperationOutcome.Failed => h.FailedCas(i, set, expected, start, end),
                        _ => h.UnknownCas(i, set, expected, start),
                    };
                    break;
            }
        }

        return h.Build();
    }

    private static History TinyRandomCounterHistory(Random random)
    {
        var h = new HistoryBuilder();
        var count = random.Next(1, 8);
        for (var i = 0; i < count; i++)
        {
            var start = random.Next(12);
            var end = start + random.Next(6);
            var outcome = RandomOutcome(random);
            if (random.Next(4) != 0)
            {
                // Mostly plausible results, sometimes 0 (never returned) or a repeat.
                _ = outcome switch
                {
                    OperationOutcome.Ok => h.Increment(i, random.Next(random.Next(8) == 0 ? 0 : 1, count + 1), start, end),
                    OperationOutcome.Failed => h.FailedIncrement(i, start, end),
                    _ => h.UnknownIncrement(i, start),
                };
            }
            else
            {
                // Absent, a count, or "0" and "+1", which a counter never holds.
                var read = random.Next(10) switch
                {
                    0 => null,
                    1 => "0",
                    2 => "+1",
                    _ => random.Next(1, count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                _ = outcome == OperationOutcome.Unknown ? h.UnknownGet(i, start) : h.Get(i, read, start, end);
            }
        }

        return h.Build();
    }

    private static void AssertAgrees(Func<Random, History> generate, int seed, int histories, int minimumEach)
    {
        var random = new Random(seed);
        var verdicts = new int[2];
        for (var i = 0; i < histories; i++)
        {
            var history = generate(random);
            var expected = BruteForce.IsLinearizable(history);

            var result = Checks.Check(history);

            Assert.True(
                result.Verdict == (expected ? Verdict.Linearizable : Verdict.NotLinearizable),
                $"history {i}, expected {(expected ? "linearizable" : "not linearizable")}:\n"
                    + string.Join("\n", history.Operations) + "\n" + result.Explain());
            foreach (var key in result.Keys.Where(_ => expected))
            {
                Assert.True(
                    BruteForce.IsLegalWitness(history.Operations.Where(op => op.Key == key.Key), key.Linearization),
                    $"history {i}: the witness is not a linearization:\n" + string.Join("\n", key.Linearization));
            }

            verdicts[expected ? 1 : 0]++;
        }

        // Both verdicts are well represented, so the comparison tests both directions.
        Assert.True(verdicts[0] > minimumEach && verdicts[1] > minimumEach, $"not linearizable {verdicts[0]}, linearizable {verdicts[1]}");
    }

    [Fact]
    public void The_checker_agrees_with_an_exhaustive_search_on_thousands_of_tiny_histories()
    {
        AssertAgrees(random => TinyRandomHistory(random, compareAndSet: false), seed: 20260101, histories: 3_000, minimumEach: 500);
    }

    [Fact]
    public void The_checker_agrees_with_an_exhaustive_search_on_thousands_of_tiny_histories_with_compare_and_set()
    {
        AssertAgrees(random => TinyRandomHistory(random, compareAndSet: true), seed: 20260202, histories: 6_000, minimumEach: 1_000);
    }

    [Fact]
    public void The_counter_check_agrees_with_an_exhaustive_search_on_thousands_of_tiny_counter_histories()
    {
        AssertAgrees(TinyRandomCounterHistory, seed: 20260303, histories: 6_000, minimumEach: 1_000);
    }
}
