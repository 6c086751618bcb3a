namespace RaftCache.Raft.Tracker;

/// <summary>
/// The append messages in flight to one follower in replicate state: a ring of (last index, bytes) bounded by
/// <see cref="RaftConfig.MaxInflightMsgs"/>. Acknowledgements free every message up to an index.
/// </summary>
internal sealed class Inflights
{
    private readonly int _capacity;
    private (ulong Index, long Bytes)[] _buffer = [];
    private int _start;

    public Inflights(int capacity) => _capacity = capacity;

    public int Count { get; private set; }

    public long Bytes { get; private set; }

    public bool Full => Count == _capacity;

    /// <summary>Records a message whose last entry is <paramref name="index"/>; indexes only grow.</summary>
    public void Add(ulong index, long bytes)
    {
        if (Full) Throw.Invariant("cannot add to a full inflight window.");
        if (Count == _buffer.Length) Grow();
        var slot = _start + Count;
        if (slot >= _buffer.Length) slot -= _buffer.Length;
        _buffer[slot] = (index, bytes);
        Count++;
        Bytes += bytes;
    }

    /// <summary>Frees every message whose last index is at most <paramref name="index"/>.</summary>
    public void FreeLE(ulong index)
    {
        if (Count == 0 || index < _buffer[_start].Index) return;
        var freed = 0;
        var slot = _start;
        while (freed < Count && _buffer[slot].Index <= index)
        {
            Bytes -= _buffer[slot].Bytes;
            freed++;
            if (++slot >= _buffer.Length) slot = 0;
        }

        Count -= freed;
        _start = Count == 0 ? 0 : slot;
    }

    /// <summary>Frees the oldest message.</summary>
    public void FreeFirst()
    {
        if (Count == 0) return;
        FreeLE(_buffer[_start].Index);
    }

    public void Reset()
    {
        Count = 0;
        Bytes = 0;
        _start = 0;
    }

    private void Grow()
    {
        // The ring grows lazily to the capacity, so that idle followers of a large window cost little.
        var size = _buffer.Length == 0 ? Math.Min(_capacity, 16) : Math.Min(_capacity, _buffer.Length * 2);
        var grown = new (ulong, long)[size];
        for (var k = 0; k < Count; k++)
        {
            var slot = _start + k;
            if (slot >= _buffer.Length) slot -= _buffer.Length;
            grown[k] = _buffer[slot];
        }

        _buffer = grown;
        _start = 0;
    }
}
