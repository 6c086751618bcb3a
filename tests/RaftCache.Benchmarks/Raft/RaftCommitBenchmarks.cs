using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using RaftCache.Raft.Testing;

namespace RaftCache.Benchmarks.Raft;

/// <summary>
/// Commit throughput of the Raft core: 64-byte entries through a three-node in-memory cluster on one thread,
/// <see cref="BatchSize"/> proposals per Ready cycle. One operation is one committed entry, so BenchmarkDotNet's
/// time and allocation per operation are per entry. Goals (targets, not gates): at least 1,000,000 entries/s with
/// batching, and at most 128 allocated bytes (twice the payload) per entry.
/// </summary>
/// <remarks>
/// The payload is one preallocated buffer shared by every proposal (entries never mutate their data), so the
/// allocations measured are the core's and the driver's, not the client's payloads.
/// </remarks>
[MemoryDiagnoser]
public class RaftCommitBenchmarks
{
    private const int EntriesPerInvoke = 64 * 1024;
    private const int PayloadSize = 64;

    private readonly ReadOnlyMemory<byte> _payload = new byte[PayloadSize];
    private CommitCluster _cluster = null!;
    private long _entries;
    private long _allocated;
    private long _ticks;

    /// <summary>Proposals handed to the leader between two rounds of Ready handling.</summary>
    [Params(1, 64, 1024)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup() => _cluster = new CommitCluster();

    [Benchmark(OperationsPerInvoke = EntriesPerInvoke)]
    public long CommitEntries()
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        var committed = _cluster.Commit(EntriesPerInvoke, BatchSize, _payload);
        _ticks += Stopwatch.GetTimestamp() - started;
        _allocated += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        _entries += EntriesPerInvoke;
        return committed;
    }

    /// <summary>Prints this process's own totals over every invocation, warm-up included, next to BenchmarkDotNet's.</summary>
    [GlobalCleanup]
    public void Report()
    {
        if (_entries == 0) return;
        var seconds = (double)_ticks / Stopwatch.Frequency;
        Console.WriteLine(
            $"// RaftCommit BatchSize={BatchSize}: {_entries} entries committed, {_entries / seconds:N0} entries/s, " +
            $"{(double)_allocated / _entries:F1} allocated bytes/entry (payload {PayloadSize} B)");
    }
}
