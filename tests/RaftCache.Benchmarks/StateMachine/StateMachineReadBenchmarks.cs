using BenchmarkDotNet.Attributes;
using RaftCache.StateMachine;

namespace RaftCache.Benchmarks.StateMachine;

/// <summary>
/// Read throughput (TryGet) of 1 or 2 reader threads over 100,000 entries, alone or while a third thread keeps
/// applying Puts (overwrites of the same keys). Reported time is per read, all readers together.
/// </summary>
public class StateMachineReadBenchmarks
{
    private const int Keys = 100_000;
    private const int ReadsPerThread = 1_000_000;
    private CacheStateMachine _machine = null!;
    private byte[][] _keys = [];
    private byte[][] _writes = [];
    private Thread? _applier;
    private volatile bool _stop;

    [Params(1, 2)]
    public int Readers { get; set; }

    [Params(false, true)]
    public bool DuringApplies { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _machine = StateMachineBenchData.Filled(Keys);
        _keys = Enumerable.Range(0, Keys).Select(i => StateMachineBenchData.Key(i)).ToArray();
        _writes = StateMachineBenchData.Puts(Keys, Keys, withTtl: false);
        if (DuringApplies)
        {
            _stop = false;
            _applier = new Thread(ApplyLoop) { IsBackground = true };
            _applier.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _applier?.Join();
    }

    [Benchmark]
    public int ConcurrentTryGet()
    {
        var perThread = ReadsPerThread / Readers;
        var threads = new Thread[Readers];
        var found = new int[Readers];
        for (var t = 0; t < Readers; t++)
        {
            var id = t;
            threads[t] = new Thread(() => found[id] = ReadMany(id * 7919, perThread));
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        return found.Sum();
    }

    private int ReadMany(int start, int count)
    {
        var found = 0;
        var now = StateMachineBenchData.StartTime;
        for (var i = 0; i < count; i++)
        {
            if (_machine.TryGet(_keys[(start + i) % Keys], now, out _))
            {
                found++;
            }
        }

        return found;
    }

    private void ApplyLoop()
    {
        var index = _machine.AppliedIndex;
        var i = 0;
        while (!_stop)
        {
            // Re-encoding keeps timestamps increasing; the bytes per entry equal those of the apply benchmark.
            _machine.Apply(++index, _writes[i++ % Keys]);
        }
    }
}
