namespace RaftCache.StateMachine;

/// <summary>
/// One stored entry. Key, value and deadline are immutable once the entry is published to readers: an overwrite
/// publishes a new entry, so a reader never sees a new value with an old deadline.
/// </summary>
internal sealed class CacheEntry
{
    /// <summary>Deadline of an entry without TTL; sorts after every real deadline.</summary>
    public const long NoDeadline = long.MaxValue;

    public CacheEntry(byte[] key, byte[] value, long deadlineUnixMs, long writeIndex)
    {
        Key = key;
        Value = value;
        DeadlineUnixMs = deadlineUnixMs;
        WriteIndex = writeIndex;
    }

    public byte[] Key { get; }

    public byte[] Value { get; }

    /// <summary>Absolute expiry in log time (timestamp of the Put + TTL), or <see cref="NoDeadline"/>.</summary>
    public long DeadlineUnixMs { get; }

    /// <summary>Log index of the Put that wrote the entry; unique among live entries, so it breaks deadline ties.</summary>
    public long WriteIndex { get; }

    /// <summary>Position in <see cref="EntryHeap"/>; touched by the applying thread only.</summary>
    public int HeapIndex { get; set; } = -1;

    /// <summary>Bytes charged against <see cref="CacheStateMachineOptions.MaxTotalBytes"/>.</summary>
    public long Size => (long)Key.Length + Value.Length;

    /// <summary>Eviction and expiry order: soonest deadline first, then oldest write. A total order over live entries.</summary>
    public static int Compare(CacheEntry a, CacheEntry b)
    {
        var c = a.DeadlineUnixMs.CompareTo(b.DeadlineUnixMs);
        return c != 0 ? c : a.WriteIndex.CompareTo(b.WriteIndex);
    }
}
