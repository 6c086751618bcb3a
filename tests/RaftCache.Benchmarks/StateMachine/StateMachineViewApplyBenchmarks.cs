using BenchmarkDotNet.Attributes;
using RaftCache.StateMachine;

namespace RaftCache.Benchmarks.StateMachine;

/// <summary>
/// The price of copy-on-write: Puts overwriting random keys of a one-million-entry cache, with or without a view
/// captured just before them and alive throughout. With a view, the first write to each table page copies it (512
/// pages of 32 KiB at this size) and the overwritten entries stay alive in the view. "First10K" is the burst right
/// after a capture, where most page copies fall; "200K" amortizes them.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
[MemoryDiagnoser]
public class StateMachineViewApplyBenchmarks
{
    private const int Entries = 1_000_000;
    private const int Burst = 10_000;
    private const int Long = 200_000;
    private CacheStateMachine _machine = null!;
    private byte[][] _overwrites = [];

    [Params(false, true)]
    public bool LiveView { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _machine = StateMachineBenchData.Filled(Entries);
        _overwrites = StateMachineBenchData.RandomOverwrites(Long, Entries, seed: 42);
    }

    [Benchmark(OperationsPerInvoke = Burst)]
    public long ApplyOverwritesFirst10K() => ApplyOverwrites(Burst);

    [Benchmark(OperationsPerInvoke = Long)]
    public long ApplyOverwrites200K() => ApplyOverwrites(Long);

    private long ApplyOverwrites(int count)
    {
        var view = LiveView ? _machine.CaptureView() : null;
        var index = _machine.AppliedIndex;
        for (var i = 0; i < count; i++)
        {
            _machine.Apply(++index, _overwrites[i]);
        }

        view?.Dispose();
        return _machine.TotalBytes;
    }
}
