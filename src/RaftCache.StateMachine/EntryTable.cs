using System.IO.Hashing;
using System.Numerics;

namespace RaftCache.StateMachine;

/// <summary>
/// The key → entry map: open addressing with linear probing over an array of entry references, written by the
/// applying thread only and read by any number of threads without locks.
/// </summary>
/// <remarks>
/// <para>Hand-written for memory and for lock-free reads: a <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/>
/// adds a 48-byte node and a separate key array per entry and takes a lock per write (measured 176 bytes of overhead
/// per entry against about 100 here; see docs/state-machine.md).</para>
/// <para>Why readers are safe: the writer only ever stores whole references into slots (with release semantics), and
/// never moves an entry within a published array. Insert fills a free or tombstone slot; overwrite replaces the slot
/// of the same key; remove stores a tombstone (not null, which would cut probe chains). Growing or purging
/// tombstones builds a new array and publishes it in one reference write; the old array is never written again, so a
/// reader that started on it finishes on a consistent (possibly slightly stale) picture. The load factor stays at or
/// below 3/4, so every probe meets a null slot and ends.</para>
/// <para>Hash values only place keys in slots: nothing that affects the replicated state iterates this table
/// (eviction uses <see cref="EntryHeap"/>, the digest is order-independent, snapshots write heap order).</para>
/// </remarks>
internal sealed class EntryTable
{
    private const int MinCapacity = 16;

    // Marks a removed slot; compared by reference only (its empty key must never match a lookup).
    private static readonly CacheEntry Tombstone = new([], 0, 0, 0);

    private CacheEntry?[] _slots;
    private int _used; // live entries plus tombstones (applying thread)
    private int _live;

    public EntryTable(int expectedCount = 0) => _slots = new CacheEntry?[CapacityFor(expectedCount)];

    public int Count => _live;

    public static int Hash(ReadOnlySpan<byte> key) => (int)XxHash3.HashToUInt64(key);

    /// <summary>Finds the entry of <paramref name="key"/>; safe from any thread.</summary>
    public CacheEntry? Find(ReadOnlySpan<byte> key) => Find(key, Hash(key));

    /// <summary>Finds the entry of <paramref name="key"/> whose hash is <paramref name="hash"/>; safe from any thread.</summary>
    public CacheEntry? Find(ReadOnlySpan<byte> key, int hash)
    {
        var slots = Volatile.Read(ref _slots);
        var mask = slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var entry = Volatile.Read(ref slots[i]);
            if (entry is null)
            {
                return null;
            }

            if (!ReferenceEquals(entry, Tombstone) && entry.KeyLength == key.Length && entry.Key.SequenceEqual(key))
            {
                return entry;
            }
        }
    }

    /// <summary>Inserts <paramref name="entry"/>, replacing the entry of the same key if any. Applying thread only.</summary>
    public void Set(CacheEntry entry, int hash)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var key = entry.Key;
        var free = -1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var current = slots[i];
            if (current is null)
            {
                if (free < 0)
                {
                    free = i;
                    _used++;
                }

                break;
            }

            if (ReferenceEquals(current, Tombstone))
            {
                if (free < 0)
                {
                    free = i;
                }
            }
            else if (current.KeyLength == key.Length && current.Key.SequenceEqual(key))
            {
                Volatile.Write(ref slots[i], entry);
                return;
            }
        }

        Volatile.Write(ref slots[free], entry);
        _live++;
        if (_used > slots.Length - (slots.Length >> 2))
        {
            Rebuild();
        }
    }

    /// <summary>Removes the entry of <paramref name="key"/> and returns it, or null. Applying thread only.</summary>
    public CacheEntry? Remove(ReadOnlySpan<byte> key)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Hash(key) & mask; ; i = (i + 1) & mask)
        {
            var entry = slots[i];
            if (entry is null)
            {
                return null;
            }

            if (!ReferenceEquals(entry, Tombstone) && entry.KeyLength == key.Length && entry.Key.SequenceEqual(key))
            {
                Volatile.Write(ref slots[i], Tombstone);
                _live--;
                return entry;
            }
        }
    }

    /// <summary>Inserts an entry known to be absent, without the load check; for restore, which presizes.</summary>
    /// <returns>False if the key is already present.</returns>
    public bool TryAddNew(CacheEntry entry)
    {
        var hash = Hash(entry.Key);
        if (Find(entry.Key, hash) is not null)
        {
            return false;
        }

        Set(entry, hash);
        return true;
    }

    private void Rebuild()
    {
        var old = _slots;
        var slots = new CacheEntry?[CapacityFor(_live)];
        var mask = slots.Length - 1;
        foreach (var entry in old)
        {
            if (entry is null || ReferenceEquals(entry, Tombstone))
            {
                continue;
            }

            var i = Hash(entry.Key) & mask;
            while (slots[i] is not null)
            {
                i = (i + 1) & mask;
            }

            slots[i] = entry;
        }

        _used = _live;
        Volatile.Write(ref _slots, slots);
    }

    // Room for count entries at load factor 1/2 or less, so the next growth is count entries away.
    private static int CapacityFor(int count) =>
        (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(MinCapacity, (long)count * 2 + 1));
}
