using System.Globalization;

namespace RaftCache.Cli;

/// <summary>The memory of the cluster's silo processes and what their replicas hold, from one status call.</summary>
/// <param name="Processes">Per silo process (host and process id): working set, managed heap, and replicas hosted.</param>
/// <param name="Entries">Entries in the cache: the sum over the groups of what each group's leader holds.</param>
/// <param name="ReplicaEntries">Entries held by all replicas together (an entry counts once per replica that holds it).</param>
internal sealed record ClusterMemory(IReadOnlyDictionary<string, (long WorkingSet, long ManagedHeap, int Replicas)> Processes, long Entries, long ReplicaEntries)
{
    public int Replicas => Processes.Values.Sum(p => p.Replicas);

    public long WorkingSet => Processes.Values.Sum(p => p.WorkingSet);

    public long ManagedHeap => Processes.Values.Sum(p => p.ManagedHeap);

    public static ClusterMemory From(ClusterStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        // Several silos may share a process (the development cluster): count each process once.
        var processes = status.Replicas
            .GroupBy(r => ProcessKey(r))
            .ToDictionary(g => g.Key, g => (g.Max(r => r.ProcessMemoryBytes), g.Max(r => r.ManagedHeapBytes), g.Count(r => r.IsReplica)));
        var replicas = status.Replicas.Where(r => r.IsReplica).ToList();
        var entries = status.Groups.Sum(g => status.LeaderOf(g)?.EntryCount ?? replicas.Where(r => r.Group == g).Select(r => r.EntryCount).DefaultIfEmpty().Max());
        return new ClusterMemory(processes, entries, replicas.Sum(r => r.EntryCount));
    }

    // The host part of the silo address (S127.0.0.1:11111:12345 → 127.0.0.1) with the process id.
    private static string ProcessKey(ReplicaStatus replica)
    {
        var silo = replica.Silo.TrimStart('S');
        var colon = silo.IndexOf(':', StringComparison.Ordinal);
        return $"{(colon > 0 ? silo[..colon] : silo)}/{replica.ProcessId.ToString(CultureInfo.InvariantCulture)}";
    }
}

/// <summary>How long filling the cache took.</summary>
internal sealed record FillResult(int Keys, double Seconds, long Retries)
{
    public double PutsPerSecond => Seconds > 0 ? Keys / Seconds : 0;
}

/// <summary>Memory before the fill, after it and after the phases, per entry and replica.</summary>
internal sealed record MemoryReport(ClusterMemory Before, ClusterMemory Filled, ClusterMemory After, FillResult Fill)
{
    public (string Text, object Json) Describe()
    {
        var added = (double)Math.Max(1, Filled.ReplicaEntries - Before.ReplicaEntries);
        var workingSetPerEntry = (Filled.WorkingSet - Before.WorkingSet) / added;
        var heapPerEntry = (Filled.ManagedHeap - Before.ManagedHeap) / added;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"fill: {Fill.Keys:N0} keys in {Fill.Seconds:0.0} s ({Fill.PutsPerSecond:N0} puts/s, {Fill.Retries:N0} retried). " +
            $"Memory of {Filled.Processes.Count} silo process(es) with {Filled.Replicas} replicas holding {Filled.ReplicaEntries:N0} entries in all: working set {Mb(Before.WorkingSet)} -> {Mb(Filled.WorkingSet)} after the fill -> {Mb(After.WorkingSet)} after the phases; " +
            $"managed heap {Mb(Before.ManagedHeap)} -> {Mb(Filled.ManagedHeap)} -> {Mb(After.ManagedHeap)}. " +
            $"Per entry per replica: {workingSetPerEntry:N0} B of working set, {heapPerEntry:N0} B of managed heap.");
        var json = new
        {
            fillKeys = Fill.Keys,
            fillSeconds = Math.Round(Fill.Seconds, 3),
            fillPutsPerSecond = Math.Round(Fill.PutsPerSecond, 1),
            processes = Filled.Processes.Count,
            replicas = Filled.Replicas,
            workingSetBytes = new { before = Before.WorkingSet, filled = Filled.WorkingSet, after = After.WorkingSet },
            managedHeapBytes = new { before = Before.ManagedHeap, filled = Filled.ManagedHeap, after = After.ManagedHeap },
            workingSetBytesPerEntryPerReplica = Math.Round(workingSetPerEntry, 1),
            managedHeapBytesPerEntryPerReplica = Math.Round(heapPerEntry, 1),
        };
        return (text, json);
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("N0", CultureInfo.InvariantCulture) + " MB";
}
