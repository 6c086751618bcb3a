namespace RaftCache.StateMachine;

/// <summary>A state built aside by <see cref="SnapshotRestorer"/>, checked in full, ready to be installed.</summary>
internal sealed class RestoredState
{
    public RestoredState(EntryTable table, EntryHeap heap, SessionTable sessions, long appliedIndex, long logTimeUnixMs, int count, long totalBytes)
    {
        Table = table;
        Heap = heap;
        Sessions = sessions;
        AppliedIndex = appliedIndex;
        LogTimeUnixMs = logTimeUnixMs;
        Count = count;
        TotalBytes = totalBytes;
    }

    public EntryTable Table { get; }

    public EntryHeap Heap { get; }

    public SessionTable Sessions { get; }

    public long AppliedIndex { get; }

    public long LogTimeUnixMs { get; }

    public int Count { get; }

    public long TotalBytes { get; }
}
