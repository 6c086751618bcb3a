namespace RaftCache.StateMachine;

/// <summary>
/// Binary min-heap of entries in <see cref="Entry.Compare"/> order, with each entry's position stored in the entry.
/// Hand-written because expiry and eviction need the minimum and overwrites/deletes need removal of an arbitrary entry
/// in O(log n); <see cref="PriorityQueue{TElement, TPriority}"/> removes in O(n). Entries without deadline go in too
/// (their deadline sorts last), so one structure gives the whole eviction order. Used by the applying thread only.
/// </summary>
/// <remarks>
/// <para>The array is split into pages of 8192 references (64 KiB, below the large-object threshold) that are added and
/// dropped one at a time, so the heap never reallocates a large array (no large-object-heap churn) and carries no
/// doubling slack: 8 bytes per entry plus at most two pages.</para>
/// <para>Keeping (deadline, write index) inline next to each reference would spare a memory access per comparison but
/// cost 16 bytes per entry, which the per-entry budget does not allow (see docs/state-machine.md, Performance).</para>
/// <para>Only the order of entries under <see cref="Entry.Compare"/> is replicated state, not the heap's layout: the
/// order is total (unique write indexes), so <see cref="Min"/> and every removal are the same on every replica even when
/// their arrays differ, e.g. after one of them restored a snapshot and rebuilt its heap with <see cref="Heapify"/>.</para>
/// </remarks>
internal sealed class EntryHeap
{
    private const int PageShift = 13;
    private const int PageSize = 1 << PageShift;
    private const int PageMask = PageSize - 1;
    private const int FirstPageInitialLength = 16;

    private byte[][][] _pages;
    private int _pageCount; // pages allocated (the first may be shorter than PageSize while the heap is small)
    private int _count;

    public EntryHeap()
    {
        _pages = new byte[4][][];
        _pages[0] = new byte[FirstPageInitialLength][];
        _pageCount = 1;
    }

    public int Count => _count;

    public byte[] Min => _pages[0][0];

    /// <summary>The entry at heap position <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>).</summary>
    public byte[] this[int index] => _pages[index >> PageShift][index & PageMask];

    public void Add(byte[] entry)
    {
        AddUnordered(entry);
        SiftUp(_count - 1);
    }

    /// <summary>Appends without sifting; for restore, which calls <see cref="Heapify"/> afterwards.</summary>
    public void AddUnordered(byte[] entry)
    {
        EnsureRoom();
        Put(_count, entry);
        _count++;
    }

    /// <summary>Restores the heap order over all entries in O(n) (Floyd's bottom-up construction).</summary>
    public void Heapify()
    {
        for (var i = (_count >> 1) - 1; i >= 0; i--)
        {
            SiftDown(i);
        }
    }

    public byte[] RemoveMin()
    {
        var min = Min;
        RemoveAt(0);
        return min;
    }

    public void Remove(byte[] entry) => RemoveAt(Entry.HeapPosition(entry));

    public bool IsValidHeap()
    {
        for (var i = 1; i < _count; i++)
        {
            if (Entry.Compare(this[(i - 1) >> 1], this[i]) > 0)
            {
                return false;
            }
        }

        return true;
    }

    private void Put(int index, byte[] entry)
    {
        _pages[index >> PageShift][index & PageMask] = entry;
        Entry.SetHeapPosition(entry, index);
    }

    private void EnsureRoom()
    {
        var page = _count >> PageShift;
        if (page == 0)
        {
            // The first page grows by doubling up to a full page, so small state machines stay small.
            if (_count == _pages[0].Length)
            {
                Array.Resize(ref _pages[0], Math.Min(PageSize, _pages[0].Length * 2));
            }

            return;
        }

        if (page == _pageCount)
        {
            if (page == _pages.Length)
            {
                Array.Resize(ref _pages, _pages.Length * 2);
            }

            _pages[page] = new byte[PageSize][];
            _pageCount++;
        }
    }

    private void RemoveAt(int index)
    {
        var removed = this[index];
        Entry.SetHeapPosition(removed, -1);
        _count--;
        var last = this[_count];
        _pages[_count >> PageShift][_count & PageMask] = null!;
        if (index != _count)
        {
            Put(index, last);
            if (index > 0 && Entry.Compare(last, this[(index - 1) >> 1]) < 0)
            {
                SiftUp(index);
            }
            else
            {
                SiftDown(index);
            }
        }

        // Drop a page once the heap has shrunk a whole page below it; keeping one spare page avoids allocating and
        // dropping the same page when the count moves back and forth across a page boundary.
        if (_pageCount > 1 && _count <= (_pageCount - 2) * PageSize)
        {
            _pageCount--;
            _pages[_pageCount] = null!;
        }
    }

    private void SiftUp(int index)
    {
        var item = this[index];
        while (index > 0)
        {
            var parent = (index - 1) >> 1;
            var p = this[parent];
            if (Entry.Compare(item, p) >= 0)
            {
                break;
            }

            Put(index, p);
            index = parent;
        }

        Put(index, item);
    }

    private void SiftDown(int index)
    {
        var item = this[index];
        while (true)
        {
            var child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            var c = this[child];
            if (child + 1 < _count)
            {
                var right = this[child + 1];
                if (Entry.Compare(right, c) < 0)
                {
                    child++;
                    c = right;
                }
            }

            if (Entry.Compare(c, item) >= 0)
            {
                break;
            }

            Put(index, c);
            index = child;
        }

        Put(index, item);
    }
}
