using BenchmarkDotNet.Attributes;
using RaftCache.StateMachine;

namespace RaftCache.Benchmarks.StateMachine;

/// <summary>
/// Apply throughput on the applying thread: encoded Puts of 16-byte keys and 100-byte values, decoded and applied
/// exactly as the replica does. "Insert" writes new keys into a growing cache; "Overwrite" rewrites a 10,000-key set;
/// "AtCapacity" inserts new keys into a cache bounded to 50,000 entries, so that most Puts evict one entry.
/// </summary>
[MemoryDiagnoser]
public class StateMachineApplyBenchmarks
{
    private const int Entries = 200_000;
    private byte[][] _inserts = [];
    private byte[][] _overwrites = [];
    private byte[][] _insertsWithTtl = [];

    [GlobalSetup]
    public void Setup()
    {
        _inserts = StateMachineBenchData.Puts(Entries, Entries, withTtl: false);
        _insertsWithTtl = StateMachineBenchData.Puts(Entries, Entries, withTtl: true);
        _overwrites = StateMachineBenchData.Puts(Entries, 10_000, withTtl: false);
    }

    [Benchmark(OperationsPerInvoke = Entries)]
    public long ApplyPutInsert() => ApplyAll(_inserts);

    [Benchmark(OperationsPerInvoke = Entries)]
    public long ApplyPutInsertHalfWithTtl() => ApplyAll(_insertsWithTtl);

    [Benchmark(OperationsPerInvoke = Entries)]
    public long ApplyPutOverwrite() => ApplyAll(_overwrites);

    [Benchmark(OperationsPerInvoke = Entries)]
    public long ApplyPutInsertAtCapacity() => ApplyAll(_inserts, new CacheStateMachineOptions { MaxEntries = 50_000 });

    private static long ApplyAll(byte[][] entries, CacheStateMachineOptions? options = null)
    {
        var machine = new CacheStateMachine(options ?? StateMachineBenchData.LargeOptions());
        for (var i = 0; i < entries.Length; i++)
        {
            machine.Apply(i + 1, entries[i]);
        }

        return machine.TotalBytes;
    }
}
