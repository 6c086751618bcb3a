using System.Text;

namespace RaftCache.Linearizability.Tests;

/// <summary>
/// Seeded random histories of a real register that are linearizable by construction, and mutations that make them
/// impossible.
/// </summary>
/// <remarks>
/// Each client issues operations one after another. Every applied operation gets a linearization point inside its
/// interval (for an Unknown write, anywhere after its invocation, possibly after the client gave up); applying the
/// operations to a dictionary in linearization-point order yields the results. The intervals around the points are what
/// creates concurrency, and the points themselves are the witness that the history is linearizable. A compare-and-set
/// picks what it expects when it is applied (the current value half the time, otherwise the value before it or
/// absent): a real client could not, but any sequential execution is linearizable, and this one mixes successes and
/// failures.
/// </remarks>
internal static class RandomHistories
{
    public sealed record Generated(History History, int Seed);

    public static Generated Generate(
        int seed,
        int clients,
        int operationsPerClient,
        int keys,
        double unknownRate = 0.05,
        double failedRate = 0.02,
        int maxLatency = 20,
        double compareAndSetRate = 0.1)
    {
        var random = new Random(seed);
        var drafts = new List<Draft>();
        for (var client = 0; client < clients; client++)
        {
            long time = random.Next(maxLatency);
            for (var i = 0; i < operationsPerClient; i++)
            {
                var roll = random.NextDouble();
                var kind = roll < compareAndSetRate ? OperationKind.CompareAndSet
                    : roll < 0.4 ? OperationKind.Put
                    : roll < 0.55 ? OperationKind.Delete
                    : OperationKind.Get;
                var outcomeRoll = random.NextDouble();
                var outcome = outcomeRoll < unknownRate ? OperationOutcome.Unknown
                    : outcomeRoll < unknownRate + failedRate ? OperationOutcome.Failed
                    : OperationOutcome.Ok;
                var invokedAt = time;
                var point = invokedAt + random.Next(maxLatency + 1);
                var completedAt = point + random.Next(maxLatency + 1);
                var applied = outcome == OperationOutcome.Ok
                    || (outcome == OperationOutcome.Unknown && kind != OperationKind.Get && random.Next(2) == 0);
                if (outcome == OperationOutcome.Unknown && applied)
                {
                    point = invokedAt + random.Next(10 * maxLatency);
                }

                drafts.Add(new Draft
                {
                    Client = client,
                    Kind = kind,
                    Key = $"k{random.Next(keys)}",
                    Value = kind is OperationKind.Put or OperationKind.CompareAndSet ? Encoding.UTF8.GetBytes($"c{client}-{i}") : null,
                    ExpectsCurrent = random.Next(2) == 0,
                    InvokedAt = invokedAt,
                    Point = point,
                    CompletedAt = completedAt,
                    Outcome = outcome,
                    Applied = applied,
                    ReportsExisted = random.Next(4) != 0,
                });
                time = completedAt + random.Next(maxLatency / 2 + 1);
            }
        }

        // The sequential execution: a real register, one operation at a time in linearization-point order.
        var store = new Dictionary<string, byte[]>();
        var previous = new Dictionary<string, byte[]?>();
        foreach (var draft in drafts.Where(d => d.Applied || d.Kind == OperationKind.CompareAndSet).OrderBy(d => d.Point))
        {
            var current = store.GetValueOrDefault(draft.Key);
            if (draft.Kind is OperationKind.Put or OperationKind.Delete)
            {
                previous[draft.Key] = current;
            }

            switch (draft.Kind)
            {
                case OperationKind.Put:
                    store[draft.Key] = draft.Value!;
                    break;
                case OperationKind.CompareAndSet:
                    draft.Expected = draft.ExpectsCurrent ? current : previous.GetValueOrDefault(draft.Key);
                    var matches = draft.Expected is null ? current is null : current is not null && current.AsSpan().SequenceEqual(draft.Expected);
                    if (draft.Applied && matches)
                    {
                        previous[draft.Key] = current;
                        store[draft.Key] = draft.Value!;
                    }

                    draft.Succeeded = draft.Outcome == OperationOutcome.Ok ? matches : null;
                    break;
                case OperationKind.Delete:
                    var existed = store.Remove(draft.Key);
                    draft.Existed = draft.Outcome == OperationOutcome.Ok && draft.ReportsExisted ? existed : null;
                    break;
                default:
                    draft.Read = store.GetValueOrDefault(draft.Key);
                    break;
            }
        }

        var operations = drafts
            .OrderBy(d => d.InvokedAt)
            .Select((d, id) => new Operation(id, d.Client, d.Kind, d.Key, d.Value, d.InvokedAt, d.CompletedAt, d.Outcome, d.Read, d.Existed, d.Expected, d.Succeeded));
        return new Generated(new History(operations), seed);
    }

    /// <summary>
    /// A linearizable history of one counter key: increments of one (some Unknown, applied or not, some Failed) and
    /// Gets, executed in linearization-point order as <see cref="Generate"/> does.
    /// </summary>
    public static History GenerateCounter(int seed, int clients, int operationsPerClient, double unknownRate = 0.05, int maxLatency = 20, string key = "n")
    {
        var random = new Random(seed);
        var drafts = new List<Draft>();
        for (var client = 0; client < clients; client++)
        {
            long time = random.Next(maxLatency);
            for (var i = 0; i < operationsPerClient; i++)
            {
                var kind = random.Next(4) == 0 ? OperationKind.Get : OperationKind.Increment;
                var outcomeRoll = random.NextDouble();
                var outcome = outcomeRoll < unknownRate ? OperationOutcome.Unknown
                    : outcomeRoll < unknownRate + 0.02 ? OperationOutcome.Failed
                    : OperationOutcome.Ok;
                var invokedAt = time;
                var point = invokedAt + random.Next(maxLatency + 1);
                var completedAt = point + random.Next(maxLatency + 1);
                var applied = outcome == OperationOutcome.Ok
                    || (outcome == OperationOutcome.Unknown && kind == OperationKind.Increment && random.Next(2) == 0);
                if (outcome == OperationOutcome.Unknown && applied)
                {
                    point = invokedAt + random.Next(10 * maxLatency);
                }

                drafts.Add(new Draft
                {
                    Client = client,
                    Kind = kind,
                    Key = key,
                    InvokedAt = invokedAt,
                    Point = point,
                    CompletedAt = completedAt,
                    Outcome = outcome,
                    Applied = applied,
                });
                time = completedAt + random.Next(maxLatency / 2 + 1);
            }
        }

        long count = 0;
        foreach (var draft in drafts.Where(d => d.Applied).OrderBy(d => d.Point))
        {
            if (draft.Kind == OperationKind.Increment)
            {
                count++;
                draft.Number = draft.Outcome == OperationOutcome.Ok ? count : null;
            }
            else
            {
                draft.Read = count == 0 ? null : Encoding.UTF8.GetBytes(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return new History(drafts
            .OrderBy(d => d.InvokedAt)
            .Select((d, id) => new Operation(id, d.Client, d.Kind, d.Key, null, d.InvokedAt, d.CompletedAt, d.Outcome, d.Read, number: d.Number)));
    }

    /// <summary>
    /// Replaces the result of one Ok Get with a value it cannot have read: the value of a Put or CompareAndSet invoked
    /// only after the Get completed, or of a Put or successful CompareAndSet overwritten by a write that completed before
    /// the Get started (values are unique, so it cannot come back), or failing both, a value nobody wrote.
    /// </summary>
    public static (History History, Operation Mutated) MutateOneRead(History history, Random random)
    {
        var operations = history.Operations.ToList();
        var choices = new List<(int Index, byte[] Value)>();
        for (var i = 0; i < operations.Count; i++)
        {
            var get = operations[i];
            if (get.Kind != OperationKind.Get || get.Outcome != OperationOutcome.Ok)
            {
                continue;
            }

            // A write that certainly replaced the value: a Put, a Delete, a compare-and-set that succeeded.
            static bool Overwrites(Operation op) =>
                (op.Outcome == OperationOutcome.Ok && op.Kind is OperationKind.Put or OperationKind.Delete) || op.Succeeded == true;

            var sameKey = operations.Where(op => op.Key == get.Key).ToList();
            var lastOverwriteStart = sameKey
                .Where(op => Overwrites(op) && op.CompletedAt < get.InvokedAt)
                .Select(op => op.InvokedAt)
                .DefaultIfEmpty(long.MinValue)
                .Max();
            foreach (var put in sameKey.Where(op => op.Value is not null))
            {
                var fromTheFuture = put.InvokedAt > get.CompletedAt;
                var overwritten = Overwrites(put) && put.CompletedAt < lastOverwriteStart;
                if (fromTheFuture || overwritten)
                {
                    choices.Add((i, put.Value!));
                }
            }
        }

        var (index, value) = choices.Count > 0
            ? choices[random.Next(choices.Count)]
            : (operations.FindIndex(op => op.Kind == OperationKind.Get && op.Outcome == OperationOutcome.Ok), Encoding.UTF8.GetBytes("never-written"));
        if (index < 0)
        {
            throw new InvalidOperationException("The history has no Ok Get to mutate.");
        }

        var original = operations[index];
        var mutated = new Operation(
            original.Id, original.ClientId, original.Kind, original.Key, null, original.InvokedAt, original.CompletedAt, original.Outcome, value);
        operations[index] = mutated;
        return (new History(operations), mutated);
    }

    /// <summary>
    /// Breaks a counter history in one of two ways no counter allows: an Increment returns what another one returned, or
    /// two Increments, one completed before the other was invoked, swap their results.
    /// </summary>
    public static (History History, Operation Mutated) MutateCounter(History history, Random random)
    {
        var operations = history.Operations.ToList();
        var increments = Enumerable.Range(0, operations.Count)
            .Where(i => operations[i].Kind == OperationKind.Increment && operations[i].Outcome == OperationOutcome.Ok)
            .ToArray();
        var sequential = (from a in increments
                          from b in increments
                          where operations[a].CompletedAt < operations[b].InvokedAt
                          select (a, b)).ToArray();
        Operation With(int index, long number)
        {
            var op = operations[index];
            return operations[index] = new Operation(op.Id, op.ClientId, op.Kind, op.Key, null, op.InvokedAt, op.CompletedAt, op.Outcome, number: number);
        }

        if (random.Next(2) == 0 || sequential.Length == 0)
        {
            var a = increments[random.Next(increments.Length)];
            var b = increments.Where(i => i != a).ElementAt(random.Next(increments.Length - 1));
            var duplicate = With(a, operations[b].Number!.Value);
            return (new History(operations), duplicate);
        }

        var (first, second) = sequential[random.Next(sequential.Length)];
        var firstNumber = operations[first].Number!.Value;
        With(first, operations[second].Number!.Value);
        var swapped = With(second, firstNumber);
        return (new History(operations), swapped);
    }

    private sealed class Draft
    {
        public int Client { get; init; }

        public OperationKind Kind { get; init; }

        public required string Key { get; init; }

        public byte[]? Value { get; init; }

        public long InvokedAt { get; init; }

        public long Point { get; init; }

        public long CompletedAt { get; init; }

        public OperationOutcome Outcome { get; init; }

        public bool Applied { get; init; }

        public bool ReportsExisted { get; init; }

        public bool ExpectsCurrent { get; init; }

        public byte[]? Read { get; set; }

        public bool? Existed { get; set; }

        public byte[]? Expected { get; set; }

        public bool? Succeeded { get; set; }

        public long? Number { get; set; }
    }
}
