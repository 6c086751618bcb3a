using RaftCache.Linearizability;

namespace RaftCache.Server.Tests.Linearizability;

/// <summary>How much concurrency a history exercised, per key: a run that never overlapped operations proves little.</summary>
internal sealed record KeyConcurrency(string Key, int Operations, int Overlapping, int MaxConcurrent);

internal static class HistoryStatistics
{
    /// <summary>
    /// Per key: the operations the checker considers (Ok, and Unknown writes), how many of them overlap another one in
    /// time, and the most completed operations that were open at once. An Unknown operation stays open to the end of the history, as the
    /// checker treats it.
    /// </summary>
    public static IReadOnlyList<KeyConcurrency> Concurrency(History history) =>
    [
        .. history.Operations
            .Where(op => op.Outcome == OperationOutcome.Ok || (op.Outcome == OperationOutcome.Unknown && op.Kind != OperationKind.Get))
            .GroupBy(op => op.Key, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => Measure(g.Key, [.. g.Select(Interval).OrderBy(i => i.Start)])),
    ];

    private static (long Start, long End) Interval(Operation op) =>
        (op.InvokedAt, op.Outcome == OperationOutcome.Ok ? op.CompletedAt!.Value : long.MaxValue);

    private static KeyConcurrency Measure(string key, (long Start, long End)[] intervals)
    {
        // Sorted by start: an interval overlaps an earlier one if some earlier interval ends after it starts, and a
        // later one if the next interval starts before it ends.
        var overlapping = 0;
        var latestEnd = long.MinValue;
        for (var i = 0; i < intervals.Length; i++)
        {
            var (start, end) = intervals[i];
            var withEarlier = latestEnd > start;
            var withLater = i + 1 < intervals.Length && intervals[i + 1].Start < end;
            if (withEarlier || withLater) overlapping++;
            latestEnd = Math.Max(latestEnd, end);
        }

        // Sweep over starts (+1) and ends (-1) of completed operations; at equal times ends go first, so touching
        // intervals do not count. Unknown writes would otherwise pile up as open to the end.
        var events = intervals.Where(i => i.End != long.MaxValue).SelectMany(i => new[] { (Time: i.Start, Delta: 1), (Time: i.End, Delta: -1) })
            .OrderBy(e => e.Time).ThenBy(e => e.Delta);
        int open = 0, maxOpen = 0;
        foreach (var (_, delta) in events)
        {
            open += delta;
            maxOpen = Math.Max(maxOpen, open);
        }

        return new KeyConcurrency(key, intervals.Length, overlapping, maxOpen);
    }
}
