using System.Buffers;

namespace RaftCache.StateMachine;

/// <summary>
/// An immutable, point-in-time view of the whole replicated state at <see cref="AppliedIndex"/>, taken by
/// <see cref="CacheStateMachine.CaptureView"/>, from which snapshots are produced while the state machine goes on
/// applying. Dispose it when done: until then, the first write to each part of the key table it shares copies that
/// part, and the entries it holds stay in memory.
/// </summary>
/// <remarks>
/// <para>Threading: every member may be called from any thread, concurrently with applies on the state machine and with
/// other views, once the view has been handed over by any synchronizing means (a task, a queue, a lock). Each <see cref="SnapshotChunkProducer"/> is a cursor for one thread at a time; several producers of the
/// same view may run at once. <see cref="Dispose"/> may be called from any thread, even while a producer is writing a
/// chunk: the sharing ends when that chunk is done, and later chunks throw <see cref="ObjectDisposedException"/>.</para>
/// <para>What it holds: a copy of the key table's page directory (not the pages: pages are copied by the state machine
/// on their first write after the capture, see the copy-on-write notes on the key table), the entries (immutable once
/// published, so shared, not copied), a copy of the client sessions, and the counters.</para>
/// </remarks>
public sealed class StateMachineView : IDisposable
{
    private const int StreamBufferBytes = 64 * 1024;
    private readonly EntryTable _table;
    private readonly int _generation;
    private int _active; // producers writing a chunk right now
    private int _disposed;
    private int _released;

    internal StateMachineView(EntryTable table, byte[]?[][] pages, int generation, long appliedIndex, long logTimeUnixMs,
        int count, long totalBytes, SessionImage[] sessions)
    {
        _table = table;
        _generation = generation;
        Pages = pages;
        AppliedIndex = appliedIndex;
        LogTimeUnixMs = logTimeUnixMs;
        Count = count;
        TotalBytes = totalBytes;
        DataBytes = totalBytes - ((long)count * CacheStateMachineOptions.EntryOverheadBytes);
        Sessions = sessions;
    }

    /// <summary>Index of the last entry applied when the view was captured.</summary>
    public long AppliedIndex { get; }

    /// <summary>Log time (Unix milliseconds) when the view was captured.</summary>
    public long LogTimeUnixMs { get; }

    /// <summary>Entries in the view.</summary>
    public int Count { get; }

    /// <summary>Bytes charged for the entries in the view (as <see cref="CacheStateMachine.TotalBytes"/>).</summary>
    public long TotalBytes { get; }

    /// <summary>Client sessions in the view.</summary>
    public int SessionCount => Sessions.Length;

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The key table's pages at capture; never written again while the view is live.</summary>
    internal byte[]?[][] Pages { get; }

    /// <summary>Sum of key and value lengths (the snapshot header's field).</summary>
    internal long DataBytes { get; }

    internal SessionImage[] Sessions { get; }

    /// <summary>
    /// Starts a snapshot of this view (format version <see cref="CacheStateMachine.SnapshotVersion"/>), produced chunk by
    /// chunk on demand. Any thread; each producer is used by one thread at a time.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The view is disposed.</exception>
    public SnapshotChunkProducer CreateSnapshotProducer()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new SnapshotChunkProducer(this);
    }

    /// <summary>Writes a whole snapshot of this view to <paramref name="destination"/>, 64 KiB at a time. Any thread.</summary>
    /// <exception cref="ObjectDisposedException">The view is disposed.</exception>
    public void WriteSnapshot(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var producer = CreateSnapshotProducer();
        var buffer = ArrayPool<byte>.Shared.Rent(StreamBufferBytes);
        try
        {
            while (!producer.IsCompleted)
            {
                var written = producer.WriteNextChunk(buffer);
                destination.Write(buffer, 0, written);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        destination.Flush();
    }

    /// <summary>
    /// Ends the view: the state machine stops copying the parts it shares, and its entries may be collected. Idempotent,
    /// any thread. A chunk being produced at the time completes normally; later chunks throw.
    /// </summary>
    public void Dispose()
    {
        // Dekker-style handshake with Enter (both sides use full fences): either a producer sees the flag and stops, or
        // this sees the producer active and leaves the release to its Exit.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (Volatile.Read(ref _active) == 0)
        {
            ReleaseOnce();
        }
    }

    /// <summary>Marks a chunk in progress; the table pages stay shared until <see cref="Exit"/>.</summary>
    internal void Enter()
    {
        Interlocked.Increment(ref _active);
        if (Volatile.Read(ref _disposed) != 0)
        {
            Exit();
            throw new ObjectDisposedException(nameof(StateMachineView), "The view was disposed; its snapshot cannot be produced any more.");
        }
    }

    internal void Exit()
    {
        if (Interlocked.Decrement(ref _active) == 0 && Volatile.Read(ref _disposed) != 0)
        {
            ReleaseOnce();
        }
    }

    private void ReleaseOnce()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _table.Release(_generation);
        }
    }
}
