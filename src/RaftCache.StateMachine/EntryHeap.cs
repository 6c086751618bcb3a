namespace RaftCache.StateMachine;

/// <summary>
/// Binary min-heap of entries in <see cref="CacheEntry.Compare"/> order, with each entry's position stored in the
/// entry. Hand-written because expiry and eviction need the minimum and overwrites/deletes need removal of an
/// arbitrary entry in O(log n); <see cref="PriorityQueue{TElement, TPriority}"/> removes in O(n). Entries without
/// deadline go in too (their deadline sorts last), so one structure gives the whole eviction order.
/// Used by the applying thread only.
/// </summary>
internal sealed class EntryHeap
{
    private CacheEntry[] _items;
    private int _count;

    public EntryHeap(int capacity = 16) => _items = new CacheEntry[Math.Max(capacity, 4)];

    public int Count => _count;

    public CacheEntry Min => _items[0];

    /// <summary>The heap array in heap order; snapshots write it as is so that restore needs no sifting.</summary>
    public ReadOnlySpan<CacheEntry> Items => _items.AsSpan(0, _count);

    public void Add(CacheEntry entry)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[_count] = entry;
        entry.HeapIndex = _count;
        _count++;
        SiftUp(_count - 1);
    }

    /// <summary>Appends without sifting; for restore, which checks <see cref="IsValidHeap"/> afterwards.</summary>
    public void AddUnordered(CacheEntry entry)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[_count] = entry;
        entry.HeapIndex = _count;
        _count++;
    }

    public CacheEntry RemoveMin()
    {
        var min = _items[0];
        RemoveAt(0);
        return min;
    }

    public void Remove(CacheEntry entry) => RemoveAt(entry.HeapIndex);

    public bool IsValidHeap()
    {
        for (var i = 1; i < _count; i++)
        {
            if (CacheEntry.Compare(_items[(i - 1) >> 1], _items[i]) > 0)
            {
                return false;
            }
        }

        return true;
    }

    private void RemoveAt(int index)
    {
        var removed = _items[index];
        removed.HeapIndex = -1;
        _count--;
        if (index == _count)
        {
            _items[_count] = null!;
            return;
        }

        var last = _items[_count];
        _items[_count] = null!;
        _items[index] = last;
        last.HeapIndex = index;
        if (index > 0 && CacheEntry.Compare(last, _items[(index - 1) >> 1]) < 0)
        {
            SiftUp(index);
        }
        else
        {
            SiftDown(index);
        }
    }

    private void SiftUp(int index)
    {
        var item = _items[index];
        while (index > 0)
        {
            var parent = (index - 1) >> 1;
            var p = _items[parent];
            if (CacheEntry.Compare(item, p) >= 0)
            {
                break;
            }

            _items[index] = p;
            p.HeapIndex = index;
            index = parent;
        }

        _items[index] = item;
        item.HeapIndex = index;
    }

    private void SiftDown(int index)
    {
        var item = _items[index];
        while (true)
        {
            var child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && CacheEntry.Compare(_items[child + 1], _items[child]) < 0)
            {
                child++;
            }

            var c = _items[child];
            if (CacheEntry.Compare(c, item) >= 0)
            {
                break;
            }

            _items[index] = c;
            c.HeapIndex = index;
            index = child;
        }

        _items[index] = item;
        item.HeapIndex = index;
    }
}
