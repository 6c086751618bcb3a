using System.Collections.Concurrent;

namespace RaftCache.StateMachine;

/// <summary>
/// The key → entry map. A <see cref="ConcurrentDictionary{TKey, TValue}"/> because readers look up without locks
/// while the applying thread writes; the applying thread is its only writer, so one lock suffices. Clear and restore
/// replace the whole table, which readers see atomically.
/// </summary>
internal sealed class EntryTable
{
    public EntryTable(int capacity = 31)
    {
        Map = new ConcurrentDictionary<byte[], CacheEntry>(concurrencyLevel: 1, capacity: Math.Max(capacity, 31), ByteKeyComparer.Instance);
        Lookup = Map.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public ConcurrentDictionary<byte[], CacheEntry> Map { get; }

    public ConcurrentDictionary<byte[], CacheEntry>.AlternateLookup<ReadOnlySpan<byte>> Lookup { get; }
}
