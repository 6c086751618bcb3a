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
/// creates concurrency, and the points themselves are the witness that the history is linearizable.
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
        int maxLatency = 20)
    {
        var random = new Random(seed);
        var drafts = new List<Draft>();
        for (var client = 0; client < clients; client++)
        {
            long time = random.Next(maxLatency);
            for (var i = 0; i < operationsPerClient; i++)
            {
                var roll = random.NextDouble();
                var kind = roll < 0.4 ? OperationKind.Put : roll < 0.55 ? OperationKind.Delete : OperationKind.Get;
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
                    Value = kind == OperationKind.Put ? Encoding.UTF8.GetBytes($"c{client}-{i}") : null,
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
        foreach (var draft in drafts.Where(d => d.Applied).OrderBy(d => d.Point))
        {
            switch (draft.Kind)
            {
                case OperationKind.Put:
                    store[draft.Key] = draft.Value!;
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
            .Select((d, id) => new Operation(id, d.Client, d.Kind, d.Key, d.Value, d.InvokedAt, d.CompletedAt, d.Outcome, d.Read, d.Existed));
        return new Generated(new History(operations), seed);
    }

    /// <summary>
    /// Replaces the result of one Ok Get with a value it cannot have read: the value of a Put invoked only after the Get
    /// completed, or of a Put overwritten by a write that completed before the Get started (values are unique, so it
    /// cannot come back), or failing both, a value nobody wrote.
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

            var sameKey = operations.Where(op => op.Key == get.Key).ToList();
            var lastOverwriteStart = sameKey
                .Where(op => op.Kind != OperationKind.Get && op.Outcome == OperationOutcome.Ok && op.CompletedAt < get.InvokedAt)
                .Select(op => op.InvokedAt)
                .DefaultIfEmpty(long.MinValue)
                .Max();
            foreach (var put in sameKey.Where(op => op.Kind == OperationKind.Put))
            {
                var fromTheFuture = put.InvokedAt > get.CompletedAt;
                var overwritten = put.Outcome == OperationOutcome.Ok && put.CompletedAt < lastOverwriteStart;
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

        public byte[]? Read { get; set; }

        public bool? Existed { get; set; }
    }
}
