using System.IO.Hashing;
using System.Numerics;

namespace RaftCache.StateMachine;

/// <summary>
/// The key → entry map: open addressing with linear probing over pages of entry references, written by the applying
/// thread only, read by any number of threads without locks, and shared page by page with point-in-time views.
/// </summary>
/// <remarks>
/// <para>Hand-written for memory and for lock-free reads: a <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/>
/// adds a 48-byte node and a separate key array per entry and takes a lock per write (see docs/state-machine.md).</para>
/// <para>Pages: the slots are split into pages of <see cref="PageSize"/> references (32 KiB, below the 85,000-byte
/// large-object threshold), so that a big table never puts arrays on the large object heap, and so that a view can
/// share the table page by page.</para>
/// <para>Why readers are safe: the writer only ever stores whole references into slots (with release semantics), and
/// never moves an entry within a published page. Insert fills a free or tombstone slot; overwrite replaces the slot of
/// the same key; remove stores a tombstone (not null, which would cut probe chains). A page shared with a view is
/// first copied, the copy modified and then published in the directory with one reference write; the old page is
/// never written again. Growing or purging tombstones builds a new layout and publishes it in one reference write;
/// the old one is never written again. So a reader that started on an old page or layout finishes on a consistent
/// (possibly slightly stale) picture, and since a slot on a key's probe chain never turns back to null, a key present
/// throughout a lookup is found. The load factor stays at or below 3/4, so every probe meets a null slot and ends.</para>
/// <para>Copy-on-write: <see cref="Capture"/> copies the page directory (not the pages) and records the generation
/// at which it was taken; every page created since carries a later generation. A write to a page whose generation is
/// at or below that of a live view copies the page first. Releasing the last view that shares a page lets writes go
/// to it in place again. Entries are immutable once published (see <see cref="Entry"/>), so sharing a page shares its
/// entries safely.</para>
/// <para>Hash values only place keys in slots: nothing that affects the replicated state depends on table order
/// (eviction uses <see cref="EntryHeap"/>, the digest is order-independent, and a restore rebuilds the heap from the
/// snapshot's table order by (deadline, write index), a total order).</para>
/// </remarks>
internal sealed class EntryTable
{
    /// <summary>log2 of <see cref="PageSize"/>.</summary>
    public const int PageShift = 12;

    /// <summary>Slots per page: 4096 references, 32 KiB.</summary>
    public const int PageSize = 1 << PageShift;

    private const int PageMask = PageSize - 1;
    private const int MinCapacity = 16;

    /// <summary>Marks a removed slot; compared by reference only (its empty key must never match a lookup).</summary>
    public static readonly byte[] Tombstone = Entry.Create([], [], Entry.NoDeadline, 0);

    private readonly object _viewsLock = new();
    private readonly List<int> _liveViews = [];
    private Layout _layout; // published with Volatile.Write; readers start from it
    private int _used; // live entries plus tombstones (applying thread)
    private int _live;
    private int _generation; // generation given to pages created now (applying thread)
    private int _sharedUpTo = -1; // pages of this generation or older may be shared with a live view; lowered by Release on any thread

    /// <summary>Creates a table sized for <paramref name="expectedCount"/> entries at a load factor above 3/8, as a grown table would be.</summary>
    public EntryTable(int expectedCount = 0) =>
        _layout = new Layout((int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(MinCapacity, expectedCount + (expectedCount / 3) + 1)), 0);

    public int Count => _live;

    /// <summary>Pages copied because a live view shared them (for tests and benchmarks).</summary>
    public long PageCopies { get; private set; }

    public static int Hash(ReadOnlySpan<byte> key) => (int)XxHash3.HashToUInt64(key);

    /// <summary>Finds the entry of <paramref name="key"/>; safe from any thread.</summary>
    public byte[]? Find(ReadOnlySpan<byte> key) => Find(key, Hash(key));

    /// <summary>Finds the entry of <paramref name="key"/> whose hash is <paramref name="hash"/>; safe from any thread.</summary>
    public byte[]? Find(ReadOnlySpan<byte> key, int hash)
    {
        var layout = Volatile.Read(ref _layout);
        var pages = layout.Pages;
        var mask = layout.Mask;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var entry = Volatile.Read(ref Volatile.Read(ref pages[i >> PageShift])[i & PageMask]);
            if (entry is null)
            {
                return null;
            }

            if (!ReferenceEquals(entry, Tombstone) && Entry.KeyEquals(entry, key))
            {
                return entry;
            }
        }
    }

    /// <summary>Inserts <paramref name="entry"/>, replacing the entry of the same key if any. Applying thread only.</summary>
    public void Set(byte[] entry, int hash)
    {
        var layout = _layout;
        var pages = layout.Pages;
        var mask = layout.Mask;
        var key = Entry.Key(entry);
        var free = -1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var current = pages[i >> PageShift][i & PageMask];
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
            else if (Entry.KeyEquals(current, key))
            {
                Store(layout, i, entry);
                return;
            }
        }

        Store(layout, free, entry);
        _live++;
        if (_used > mask + 1 - ((mask + 1) >> 2))
        {
            Rebuild();
        }
    }

    /// <summary>Removes the entry of <paramref name="key"/> and returns it, or null. Applying thread only.</summary>
    public byte[]? Remove(ReadOnlySpan<byte> key)
    {
        var layout = _layout;
        var pages = layout.Pages;
        var mask = layout.Mask;
        for (var i = Hash(key) & mask; ; i = (i + 1) & mask)
        {
            var entry = pages[i >> PageShift][i & PageMask];
            if (entry is null)
            {
                return null;
            }

            if (!ReferenceEquals(entry, Tombstone) && Entry.KeyEquals(entry, key))
            {
                Store(layout, i, Tombstone);
                _live--;
                return entry;
            }
        }
    }

    /// <summary>Inserts an entry unless its key is present; for restore. Applying (or restoring) thread only.</summary>
    /// <returns>False if the key is already present.</returns>
    public bool TryAddNew(byte[] entry)
    {
        var hash = Hash(Entry.Key(entry));
        if (Find(Entry.Key(entry), hash) is not null)
        {
            return false;
        }

        Set(entry, hash);
        return true;
    }

    /// <summary>
    /// Copies the page directory for a view and marks every current page as shared until <see cref="Release"/> is
    /// called with the returned generation. O(pages). Applying thread only.
    /// </summary>
    public (byte[]?[][] Pages, int Generation) Capture()
    {
        var pages = (byte[]?[][])_layout.Pages.Clone();
        var generation = _generation;
        lock (_viewsLock)
        {
            _liveViews.Add(generation);
            Volatile.Write(ref _sharedUpTo, generation);
        }

        // Pages created from now on (copies, growth) are newer than this view and not shared with it.
        _generation = generation + 1;
        return (pages, generation);
    }

    /// <summary>Ends the sharing of a view taken at <paramref name="generation"/>. Any thread.</summary>
    public void Release(int generation)
    {
        lock (_viewsLock)
        {
            _liveViews.Remove(generation);
            var max = -1;
            foreach (var g in _liveViews)
            {
                max = Math.Max(max, g);
            }

            // Only ever lowers the value while the applying thread reads it; a stale (higher) read costs a needless
            // page copy at worst. Raising it happens in Capture, on the applying thread itself.
            Volatile.Write(ref _sharedUpTo, max);
        }
    }

    /// <summary>Entries in table order (page by page); applying thread, or a view's copy of the directory from any thread.</summary>
    public static IEnumerable<byte[]> Entries(byte[]?[][] pages)
    {
        foreach (var page in pages)
        {
            foreach (var entry in page)
            {
                if (entry is not null && !ReferenceEquals(entry, Tombstone))
                {
                    yield return entry;
                }
            }
        }
    }

    /// <summary>The current page directory (tests).</summary>
    internal byte[]?[][] CurrentPages => _layout.Pages;

    private void Store(Layout layout, int slot, byte[] value)
    {
        var p = slot >> PageShift;
        var page = layout.Pages[p];
        if (layout.Generations[p] <= Volatile.Read(ref _sharedUpTo))
        {
            // Copy on write: a live view may still read this page, which must never change under it.
            var copy = (byte[]?[])page.Clone();
            copy[slot & PageMask] = value;
            layout.Generations[p] = _generation;
            Volatile.Write(ref layout.Pages[p], copy);
            PageCopies++;
            return;
        }

        Volatile.Write(ref page[slot & PageMask], value);
    }

    private void Rebuild()
    {
        var old = _layout.Pages;
        var layout = new Layout(CapacityFor(_live), _generation);
        var mask = layout.Mask;
        foreach (var entry in Entries(old))
        {
            var i = Hash(Entry.Key(entry)) & mask;
            while (layout.Pages[i >> PageShift][i & PageMask] is not null)
            {
                i = (i + 1) & mask;
            }

            layout.Pages[i >> PageShift][i & PageMask] = entry;
        }

        _used = _live;
        Volatile.Write(ref _layout, layout);
    }

    // Room for count entries at load factor 1/2 or less, so the next growth is count entries away.
    private static int CapacityFor(int count) =>
        (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(MinCapacity, (long)count * 2 + 1));

    /// <summary>
    /// One table size: the page directory, the mask and each page's generation. Pages may be replaced (copy on write);
    /// the directory array itself never is. A small table has one page of its whole capacity.
    /// </summary>
    private sealed class Layout
    {
        public Layout(int capacity, int generation)
        {
            Mask = capacity - 1;
            var pageLength = Math.Min(capacity, PageSize);
            Pages = new byte[]?[capacity / pageLength][];
            for (var p = 0; p < Pages.Length; p++)
            {
                Pages[p] = new byte[]?[pageLength];
            }

            Generations = new int[Pages.Length];
            Array.Fill(Generations, generation);
        }

        public byte[]?[][] Pages { get; }

        public int Mask { get; }

        /// <summary>Generation at which each page was created (applying thread only).</summary>
        public int[] Generations { get; }
    }
}
