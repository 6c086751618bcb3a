namespace RaftCache.StateMachine;

/// <summary>
/// One stored entry. Key and value share one array (key first) to save an object header and a reference per entry.
/// Data, key length and deadline are immutable once the entry is published to readers: an overwrite publishes a new
/// entry, so a reader never sees a new value with an old deadline.
/// </summary>
internal sealed class CacheEntry
{
    /// <summary>Deadline of an entry without TTL; sorts after every real deadline.</summary>
    public const long NoDeadline = long.MaxValue;

    public CacheEntry(byte[] data, int keyLength, long deadlineUnixMs, long writeIndex)
    {
        Data = data;
        KeyLength = keyLength;
        DeadlineUnixMs = deadlineUnixMs;
        WriteIndex = writeIndex;
    }

    /// <summary>Key bytes followed by value bytes.</summary>
    public byte[] Data { get; }

    public int KeyLength { get; }

    public ReadOnlySpan<byte> Key => new(Data, 0, KeyLength);

    public ReadOnlySpan<byte> Value => new(Data, KeyLength, Data.Length - KeyLength);

    public ReadOnlyMemory<byte> ValueMemory => new(Data, KeyLength, Data.Length - KeyLength);

    /// <summary>Absolute expiry in log time (timestamp of the Put + TTL), or <see cref="NoDeadline"/>.</summary>
    public long DeadlineUnixMs { get; }

    /// <summary>Log index of the Put that wrote the entry; unique among live entries, so it breaks deadline ties.</summary>
    public long WriteIndex { get; }

    /// <summary>Position in <see cref="EntryHeap"/>; touched by the applying thread only.</summary>
    public int HeapIndex { get; set; } = -1;

    /// <summary>Bytes charged against <see cref="CacheStateMachineOptions.MaxTotalBytes"/>: key plus value length.</summary>
    public long Size => Data.Length;

    /// <summary>Builds an entry, copying key and value into one new array.</summary>
    public static CacheEntry Create(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long deadlineUnixMs, long writeIndex)
    {
        var data = GC.AllocateUninitializedArray<byte>(key.Length + value.Length);
        key.CopyTo(data);
        value.CopyTo(data.AsSpan(key.Length));
        return new CacheEntry(data, key.Length, deadlineUnixMs, writeIndex);
    }

    /// <summary>Eviction and expiry order: soonest deadline first, then oldest write. A total order over live entries.</summary>
    public static int Compare(CacheEntry a, CacheEntry b)
    {
        var c = a.DeadlineUnixMs.CompareTo(b.DeadlineUnixMs);
        return c != 0 ? c : a.WriteIndex.CompareTo(b.WriteIndex);
    }
}
