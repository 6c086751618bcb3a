using BenchmarkDotNet.Attributes;
using RaftCache.StateMachine;

namespace RaftCache.Benchmarks.StateMachine;

/// <summary>Snapshot writing and restoring of one million entries (16-byte keys, 100-byte values, half with TTL).</summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
[MemoryDiagnoser]
public class StateMachineSnapshotBenchmarks
{
    private const int Entries = 1_000_000;
    private CacheStateMachine _machine = null!;
    private byte[] _buffer = [];
    private byte[] _snapshot = [];

    [GlobalSetup]
    public void Setup()
    {
        _machine = StateMachineBenchData.Filled(Entries);
        _snapshot = _machine.CreateSnapshot();
        _buffer = new byte[_snapshot.Length];
        Console.WriteLine($"// Snapshot of {Entries:N0} entries: {_snapshot.Length:N0} bytes");
    }

    [Benchmark]
    public long WriteSnapshot()
    {
        using var stream = new MemoryStream(_buffer);
        _machine.WriteSnapshot(stream);
        return stream.Position;
    }

    [Benchmark]
    public int Restore()
    {
        var target = new CacheStateMachine(StateMachineBenchData.LargeOptions());
        target.Restore(_snapshot);
        return target.Count;
    }
}
