using BenchmarkDotNet.Attributes;
using RaftCache.StateMachine;

namespace RaftCache.Benchmarks.StateMachine;

/// <summary>
/// Memory per entry: managed heap growth after applying one million Puts, divided by the entry count, minus the key
/// and value bytes; and how much of that growth is on the large object heap (the key table and eviction heap are paged
/// so that it stays near zero). Printed by the setup ("// Heap growth per entry"); the timed part fills a cache once more.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 0, iterationCount: 1, invocationCount: 1)]
public class StateMachineMemoryBenchmarks
{
    private const int Entries = 1_000_000;

    [Params(false, true)]
    public bool WithTtl { get; set; }

    [GlobalSetup]
    public void Measure()
    {
        var entries = StateMachineBenchData.Puts(Entries, Entries, WithTtl);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var lohBefore = LargeObjectHeapBytes();
        var machine = new CacheStateMachine(StateMachineBenchData.LargeOptions());
        for (var i = 0; i < entries.Length; i++)
        {
            machine.Apply(i + 1, entries[i]);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        var lohAfter = LargeObjectHeapBytes();
        var perEntry = (double)(after - before) / Entries;
        var overhead = perEntry - StateMachineBenchData.KeyBytes - StateMachineBenchData.ValueBytes;
        Console.WriteLine($"// Heap growth per entry (TTL on half: {WithTtl}): {perEntry:F1} bytes; overhead beyond key and value: {overhead:F1} bytes; "
            + $"large object heap growth: {lohAfter - lohBefore:N0} bytes; charged per entry: {(double)machine.TotalBytes / Entries:F1} bytes");
        GC.KeepAlive(machine);
        GC.KeepAlive(entries);
    }

    [Benchmark]
    public long FillOneMillion()
    {
        var machine = StateMachineBenchData.Filled(Entries);
        return machine.TotalBytes;
    }

    // Generation index 3 is the large object heap; sizes are as of the last (here: the forced full) collection.
    private static long LargeObjectHeapBytes() => GC.GetGCMemoryInfo(GCKind.FullBlocking).GenerationInfo[3].SizeAfterBytes;
}
