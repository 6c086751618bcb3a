using BenchmarkDotNet.Attributes;
using RaftCache.StateMachine;

namespace RaftCache.Benchmarks.StateMachine;

/// <summary>
/// Snapshots of one million entries (16-byte keys, 100-byte values, half with TTL): the cost of capturing a view, of
/// producing the snapshot from it in 64 KiB chunks, of writing it to a stream, and of restoring it whole or from 64 KiB
/// pieces.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
[MemoryDiagnoser]
public class StateMachineSnapshotBenchmarks
{
    private const int Entries = 1_000_000;
    private const int ChunkBytes = 64 * 1024;
    private CacheStateMachine _machine = null!;
    private byte[] _buffer = [];
    private byte[] _chunk = [];
    private byte[] _snapshot = [];

    [GlobalSetup]
    public void Setup()
    {
        _machine = StateMachineBenchData.Filled(Entries);
        _snapshot = _machine.CreateSnapshot();
        _buffer = new byte[_snapshot.Length];
        _chunk = new byte[ChunkBytes];
        Console.WriteLine($"// Snapshot of {Entries:N0} entries: {_snapshot.Length:N0} bytes; table pages: {_machine.Table.CurrentPages.Length}");
    }

    /// <summary>Capture and dispose, without writes in between: the time the applying thread is held.</summary>
    [Benchmark]
    public long CaptureView()
    {
        using var view = _machine.CaptureView();
        return view.AppliedIndex;
    }

    /// <summary>The whole snapshot produced from a view in 64 KiB chunks into one reused buffer (as a transport would).</summary>
    [Benchmark]
    public long ProduceChunks()
    {
        using var view = _machine.CaptureView();
        var producer = view.CreateSnapshotProducer();
        while (!producer.IsCompleted)
        {
            producer.WriteNextChunk(_chunk);
        }

        return producer.BytesWritten;
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

    /// <summary>The snapshot fed to a <see cref="SnapshotRestorer"/> in 64 KiB pieces (as received from a transport).</summary>
    [Benchmark]
    public int RestoreInChunks()
    {
        var restorer = new SnapshotRestorer(StateMachineBenchData.LargeOptions());
        for (var offset = 0; offset < _snapshot.Length; offset += ChunkBytes)
        {
            restorer.Append(_snapshot.AsSpan(offset, Math.Min(ChunkBytes, _snapshot.Length - offset)));
        }

        return restorer.Complete().Count;
    }
}
