using System.Buffers;

namespace RaftCache.StateMachine;

/// <summary>Point-in-time views, snapshot writing and restoring.</summary>
/// <remarks>
/// <para>A snapshot is produced from a <see cref="StateMachineView"/>, captured on the applying thread in time
/// proportional to the key table's pages and the sessions (not the entries), and then read from any thread while
/// applies go on; the state machine copies a table page on its first write after the capture (copy-on-write). See
/// <see cref="SnapshotFormat"/> for format version 3 and <see cref="SnapshotRestorer"/> for the receiving side.</para>
/// </remarks>
public sealed partial class CacheStateMachine
{
    /// <summary>The snapshot format version this build writes and reads.</summary>
    public const ushort SnapshotVersion = 3;

    private const int StreamBufferBytes = 64 * 1024;

    /// <summary>
    /// Captures an immutable view of the whole replicated state at <see cref="AppliedIndex"/>, to produce a snapshot
    /// from while applies continue. Applying thread only; the view is then readable from any thread. Costs a copy of
    /// the key table's page directory and of the client sessions, not of the entries: O(pages + sessions). Dispose the
    /// view when the snapshot is done; several views may be alive at once.
    /// </summary>
    /// <exception cref="StateMachineFaultedException">The state machine is faulted: its state must not be copied.</exception>
    public StateMachineView CaptureView()
    {
        ThrowIfFaulted();
        var sessions = new SessionImage[_sessions.Count];
        var i = 0;
        foreach (var session in _sessions.InActivityOrder())
        {
            sessions[i++] = new SessionImage(session);
        }

        var (pages, generation) = _table.Capture();
        return new StateMachineView(_table, pages, generation, _appliedIndex, _logTime, _count, _totalBytes, sessions);
    }

    /// <summary>
    /// Writes a snapshot of the whole state to <paramref name="destination"/>: captures a view, writes it 64 KiB at a
    /// time and disposes it. A convenience for callers that want the snapshot at once; applies wait while it runs.
    /// Applying thread only.
    /// </summary>
    /// <exception cref="StateMachineFaultedException">The state machine is faulted: its state must not be copied.</exception>
    public void WriteSnapshot(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var view = CaptureView();
        view.WriteSnapshot(destination);
    }

    /// <summary>Writes the whole state into a new array (see <see cref="WriteSnapshot"/>). Applying thread only.</summary>
    /// <exception cref="StateMachineFaultedException">The state machine is faulted.</exception>
    public byte[] CreateSnapshot()
    {
        using var stream = new MemoryStream();
        WriteSnapshot(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// Replaces the state with the snapshot read from <paramref name="source"/> (to its end), in 64 KiB pieces through a
    /// <see cref="SnapshotRestorer"/>. The new state is built aside and swapped in only when the whole snapshot checked
    /// out; readers see the old or the new state, never a mix. Applying thread only.
    /// </summary>
    /// <exception cref="SnapshotFormatException">The snapshot is corrupt, truncated, of an unknown version or exceeds this replica's limits; the previous state is kept.</exception>
    /// <exception cref="StateMachineFaultedException">The state machine is faulted.</exception>
    public void Restore(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ThrowIfFaulted();
        var restorer = new SnapshotRestorer(_options);
        var buffer = ArrayPool<byte>.Shared.Rent(StreamBufferBytes);
        try
        {
            int read;
            while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
            {
                restorer.Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Install(restorer.CompleteState());
    }

    /// <summary>Replaces the state with the snapshot in <paramref name="snapshot"/> (see <see cref="Restore(Stream)"/>).</summary>
    /// <exception cref="SnapshotFormatException">The snapshot is corrupt, truncated, of an unknown version or exceeds this replica's limits; the previous state is kept.</exception>
    /// <exception cref="StateMachineFaultedException">The state machine is faulted.</exception>
    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        ThrowIfFaulted();
        var restorer = new SnapshotRestorer(_options);
        restorer.Append(snapshot.Span);
        Install(restorer.CompleteState());
    }

    private void Install(RestoredState state)
    {
        // Everything checked: swap. Readers only see _table, which changes in one reference write. Views of the old
        // state keep their own copy of its page directory and are unaffected.
        _heap = state.Heap;
        _sessions = state.Sessions;
        Volatile.Write(ref _logTime, state.LogTimeUnixMs);
        Volatile.Write(ref _count, state.Count);
        Volatile.Write(ref _totalBytes, state.TotalBytes);
        Volatile.Write(ref _table, state.Table);
        Volatile.Write(ref _appliedIndex, state.AppliedIndex);
        Volatile.Write(ref _expiredTotal, 0);
        Volatile.Write(ref _evictedTotal, 0);
        Volatile.Write(ref _duplicateTotal, 0);
        Volatile.Write(ref _sessionExpiredTotal, 0);
        Volatile.Write(ref _sessionsExpiredTotal, 0);
    }
}
