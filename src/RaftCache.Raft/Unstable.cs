using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace RaftCache.Raft;

/// <summary>
/// The tail of the log not yet handed to <see cref="IStorage"/>, and a snapshot received from the leader and not
/// yet persisted. Entry k of the buffer has index <see cref="Offset"/> + k.
/// </summary>
/// <remarks>
/// A growable array with an offset rather than a list of chunks: appends are amortized O(1) and slicing is a
/// block copy. Invariant: if a snapshot is pending, <see cref="Offset"/> = snapshot index + 1.
/// </remarks>
internal sealed class Unstable
{
    private Entry[] _entries = new Entry[64];
    private int _count;

    public Unstable(ulong offset) => Offset = offset;

    /// <summary>The index of the first unstable entry.</summary>
    public ulong Offset { get; private set; }

    /// <summary>How many entries are unstable.</summary>
    public int Count => _count;

    /// <summary>A snapshot to persist, if any.</summary>
    public Snapshot? Snapshot { get; private set; }

    /// <summary>The first index if only a snapshot is pending (index of the snapshot + 1).</summary>
    public bool TryFirstIndex(out ulong index)
    {
        if (Snapshot is { } snapshot)
        {
            index = snapshot.Metadata.Index + 1;
            return true;
        }

        index = 0;
        return false;
    }

    public bool TryLastIndex(out ulong index)
    {
        if (_count > 0)
        {
            index = Offset + (ulong)_count - 1;
            return true;
        }

        if (Snapshot is { } snapshot)
        {
            index = snapshot.Metadata.Index;
            return true;
        }

        index = 0;
        return false;
    }

    public bool TryTerm(ulong index, out ulong term)
    {
        if (index < Offset)
        {
            if (Snapshot is { } snapshot && snapshot.Metadata.Index == index)
            {
                term = snapshot.Metadata.Term;
                return true;
            }

            term = 0;
            return false;
        }

        var k = index - Offset;
        if (k >= (ulong)_count)
        {
            term = 0;
            return false;
        }

        term = _entries[(int)k].Term;
        return true;
    }

    public ref readonly Entry At(ulong index) => ref _entries[(int)(index - Offset)];

    /// <summary>All unstable entries, copied (the copy is handed out in a <see cref="Ready"/> and must not change).</summary>
    public ImmutableArray<Entry> ToImmutable() => Slice(Offset, Offset + (ulong)_count);

    /// <summary>Entries in [lo, hi), copied.</summary>
    public ImmutableArray<Entry> Slice(ulong lo, ulong hi)
    {
        if (lo < Offset || hi > Offset + (ulong)_count || lo > hi)
            Throw.Invariant($"unstable slice [{lo}, {hi}) out of bounds [{Offset}, {Offset + (ulong)_count}).");
        if (lo == hi) return [];
        var copy = new Entry[hi - lo];
        Array.Copy(_entries, (int)(lo - Offset), copy, 0, copy.Length);
        return ImmutableCollectionsMarshal.AsImmutableArray(copy);
    }

    /// <summary>Copies entries in [lo, hi) into <paramref name="destination"/>.</summary>
    public void CopyTo(ulong lo, ulong hi, Span<Entry> destination) =>
        _entries.AsSpan((int)(lo - Offset), (int)(hi - lo)).CopyTo(destination);

    /// <summary>The driver persisted entries up to <paramref name="id"/>; drop them if they are still ours.</summary>
    public void StableTo(EntryId id)
    {
        // A stale acknowledgement (the entry was since replaced by a conflicting one) must not drop newer entries.
        if (!TryTerm(id.Index, out var term) || term != id.Term || id.Index < Offset) return;
        var drop = (int)(id.Index + 1 - Offset);
        var left = _count - drop;
        if (left > 0) Array.Copy(_entries, drop, _entries, 0, left);
        Array.Clear(_entries, Math.Max(left, 0), drop);
        _count = left;
        Offset = id.Index + 1;
        ShrinkIfIdle();
    }

    public void StableSnapTo(ulong index)
    {
        if (Snapshot is { } snapshot && snapshot.Metadata.Index == index) Snapshot = null;
    }

    public void Restore(Snapshot snapshot)
    {
        Array.Clear(_entries, 0, _count);
        _count = 0;
        Offset = snapshot.Metadata.Index + 1;
        Snapshot = snapshot;
    }

    public void Append(in Entry entry)
    {
        if (_count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
        _entries[_count++] = entry;
    }

    /// <summary>
    /// Appends <paramref name="entries"/>, first dropping every unstable entry at or after the first one's index
    /// (Raft §5.3: a conflicting suffix is replaced). The caller has checked that the result stays contiguous.
    /// </summary>
    public void TruncateAndAppend(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty) return;
        var after = entries[0].Index;
        var end = Offset + (ulong)_count;
        if (after == end)
        {
            // The common case: a plain append.
        }
        else if (after <= Offset)
        {
            // Everything unstable is replaced; the stable log below is truncated by the driver when it appends.
            Array.Clear(_entries, 0, _count);
            _count = 0;
            Offset = after;
        }
        else if (after < end)
        {
            var keep = (int)(after - Offset);
            Array.Clear(_entries, keep, _count - keep);
            _count = keep;
        }
        else
        {
            Throw.Invariant($"unstable append at {after} leaves a gap after {end - 1}.");
        }

        EnsureCapacity(_count + entries.Length);
        entries.CopyTo(_entries.AsSpan(_count));
        _count += entries.Length;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _entries.Length) return;
        var size = _entries.Length;
        while (size < needed) size *= 2;
        Array.Resize(ref _entries, size);
    }

    private void ShrinkIfIdle()
    {
        // After a burst the buffer may be large; release it once drained so an idle node does not pin memory.
        if (_count == 0 && _entries.Length > 64 * 1024) _entries = new Entry[64];
    }
}
