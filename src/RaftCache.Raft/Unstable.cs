using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace RaftCache.Raft;

/// <summary>
/// The tail of the log held in memory: the entries not yet handed to <see cref="IStorage"/> (from
/// <see cref="Offset"/>), the persisted entries not yet applied just below them (from <see cref="FirstHeld"/>), and a
/// snapshot received from the leader and not yet persisted.
/// </summary>
/// <remarks>
/// <para>The entries are kept as segments of arrays that are never written again once they hold a segment: the
/// entry array of an Append message a follower received (messages are immutable), or a batch of the leader's own
/// proposals sealed into an exact-size array. A range that is exactly one whole array, the common case under
/// batching, is handed out as that array, wrapped without a copy in an <see cref="ImmutableArray{T}"/>: the leader's
/// Append messages, its <see cref="Ready.Entries"/> and later its <see cref="Ready.CommittedEntries"/> all share the
/// batch array, and a follower hands the message's array on as both as well. That is one 40-byte copy of each entry
/// for the whole three-node group instead of six (283 → 42 B allocated per committed entry at batches of 1,024,
/// 34 B with the 32-byte <see cref="Entry"/>; see docs/raft-core.md). Other ranges are copied: an
/// <see cref="ImmutableArray{T}"/> cannot be a slice of a larger array.</para>
/// <para>Persisted entries stay held until applied so that <see cref="Ready.CommittedEntries"/> can reuse the array
/// handed out earlier as <see cref="Ready.Entries"/> instead of copying them out of storage; they are released a
/// whole segment at a time (<see cref="ReleaseBelow"/>).</para>
/// <para>Proposals the leader appends one at a time go to a private, growable open buffer first; it is sealed into a
/// segment when a range reaching into it is handed out, so only sealed arrays ever leave.</para>
/// <para>Invariants: FirstHeld &lt;= Offset &lt;= End; segments are contiguous from FirstHeld, followed by the open
/// buffer; entries below Offset equal those in storage; if a snapshot is pending, Offset = snapshot index + 1.
/// Truncation on conflict only shortens or drops segments, never writes into their arrays, so arrays already
/// handed out are unaffected.</para>
/// </remarks>
internal sealed class Unstable
{
    private const int InitialOpenCapacity = 64;

    private Segment[] _segments = new Segment[16];
    private int _head;
    private int _segmentCount;
    private ulong _sealedEnd;

    private Entry[] _open = new Entry[InitialOpenCapacity];
    private int _openCount;

    public Unstable(ulong offset)
    {
        Offset = offset;
        FirstHeld = offset;
        _sealedEnd = offset;
    }

    /// <summary>The index of the first unstable entry.</summary>
    public ulong Offset { get; private set; }

    /// <summary>The index of the first entry held in memory (persisted, not yet released, below <see cref="Offset"/>).</summary>
    public ulong FirstHeld { get; private set; }

    /// <summary>One past the last entry held.</summary>
    public ulong End => _sealedEnd + (ulong)_openCount;

    /// <summary>How many entries are unstable.</summary>
    public int Count => (int)(End - Offset);

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
        if (End > Offset)
        {
            index = End - 1;
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

    /// <summary>The term of an unstable entry, or of the pending snapshot's index.</summary>
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

        if (index >= End)
        {
            term = 0;
            return false;
        }

        term = At(index).Term;
        return true;
    }

    /// <summary>The term of any entry held, persisted or not.</summary>
    public bool TryHeldTerm(ulong index, out ulong term)
    {
        if (index < FirstHeld || index >= End)
        {
            term = 0;
            return false;
        }

        term = At(index).Term;
        return true;
    }

    /// <summary>The entry at <paramref name="index"/>, which must be held.</summary>
    public ref readonly Entry At(ulong index)
    {
        if (index >= _sealedEnd) return ref _open[(int)(index - _sealedEnd)];
        ref readonly var segment = ref _segments[Find(index)];
        return ref segment.Array[segment.Start + (int)(index - segment.First)];
    }

    /// <summary>All unstable entries (handed out in a <see cref="Ready"/>; never changed afterwards).</summary>
    public ImmutableArray<Entry> ToImmutable() => Slice(Offset, End, long.MaxValue);

    /// <summary>
    /// Held entries from <paramref name="lo"/> below <paramref name="hi"/> totalling at most
    /// <paramref name="maxSize"/> bytes, at least one unless <paramref name="allowEmpty"/>. Shares the array of a
    /// segment the range covers exactly; copies otherwise. The result is never changed afterwards.
    /// </summary>
    public ImmutableArray<Entry> Slice(ulong lo, ulong hi, long maxSize, bool allowEmpty = false)
    {
        if (lo < FirstHeld || hi > End || lo > hi)
            Throw.Invariant($"held slice [{lo}, {hi}) out of bounds [{FirstHeld}, {End}).");
        if (lo == hi) return [];

        // Only sealed arrays leave: the open buffer is written again by the next proposal.
        if (hi > _sealedEnd) Seal();
        var first = Find(lo);
        var end = SizedEnd(first, lo, hi, maxSize, allowEmpty);
        if (end == lo) return [];
        ref readonly var head = ref _segments[first];
        if (lo == head.First && end == head.End && head.Start == 0 && head.Count == head.Array.Length)
            return ImmutableCollectionsMarshal.AsImmutableArray(head.Array);

        var copy = new Entry[end - lo];
        var written = 0;
        for (var k = first; written < copy.Length; k++)
        {
            ref readonly var segment = ref _segments[k];
            var from = (int)(lo + (ulong)written - segment.First);
            var n = Math.Min(segment.Count - from, copy.Length - written);
            segment.Array.AsSpan(segment.Start + from, n).CopyTo(copy.AsSpan(written));
            written += n;
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(copy);
    }

    /// <summary>The end of the longest range from <paramref name="lo"/> (in segment <paramref name="first"/>) within <paramref name="maxSize"/>.</summary>
    private ulong SizedEnd(int first, ulong lo, ulong hi, long maxSize, bool allowEmpty)
    {
        long size = 0;
        var end = lo;
        for (var k = first; end < hi; k++)
        {
            ref readonly var segment = ref _segments[k];
            var from = segment.Start + (int)(end - segment.First);
            var to = segment.Start + (int)(Math.Min(hi, segment.End) - segment.First);
            foreach (ref readonly var e in segment.Array.AsSpan(from, to - from))
            {
                size += e.Size;
                if (size > maxSize && (end > lo || allowEmpty)) return end;
                end++;
            }
        }

        return end;
    }

    /// <summary>The driver persisted entries up to <paramref name="id"/>: they are stable from now on.</summary>
    public void StableTo(EntryId id)
    {
        // A stale acknowledgement (the entry was since replaced by a conflicting one) must not drop newer entries.
        if (!TryTerm(id.Index, out var term) || term != id.Term || id.Index < Offset) return;
        Offset = id.Index + 1;
    }

    public void StableSnapTo(ulong index)
    {
        if (Snapshot is { } snapshot && snapshot.Metadata.Index == index) Snapshot = null;
    }

    /// <summary>Stops holding persisted entries below <paramref name="index"/> (whole segments only).</summary>
    public void ReleaseBelow(ulong index)
    {
        if (index > Offset) index = Offset;
        while (_segmentCount > 0 && _segments[_head].End <= index)
        {
            _segments[_head] = default;
            _head++;
            _segmentCount--;
        }

        if (_segmentCount == 0) _head = 0;
        FirstHeld = _segmentCount > 0 ? _segments[_head].First : _sealedEnd;
    }

    public void Restore(Snapshot snapshot)
    {
        ClearSegments();
        ClearOpen();
        Offset = snapshot.Metadata.Index + 1;
        FirstHeld = Offset;
        _sealedEnd = Offset;
        Snapshot = snapshot;
    }

    /// <summary>Appends one entry made by this node as leader; the caller has checked that it follows the last.</summary>
    public void Append(in Entry entry)
    {
        if (_openCount == _open.Length) Array.Resize(ref _open, _open.Length * 2);
        _open[_openCount++] = entry;
    }

    /// <summary>
    /// Appends <paramref name="entries"/> from <paramref name="start"/> on, first dropping every entry held at or
    /// after the first one's index (Raft §5.3: a conflicting suffix is replaced). The array is kept as a segment,
    /// not copied: an <see cref="ImmutableArray{T}"/> is never changed. The caller has checked that the result
    /// stays contiguous.
    /// </summary>
    public void TruncateAndAppend(ImmutableArray<Entry> entries, int start)
    {
        var count = entries.Length - start;
        if (count <= 0) return;
        var after = entries[start].Index;
        if (after > End) Throw.Invariant($"unstable append at {after} leaves a gap after {End - 1}.");
        TruncateFrom(after);
        Seal();
        PushSegment(new Segment(after, ImmutableCollectionsMarshal.AsArray(entries)!, start, count));
        _sealedEnd += (ulong)count;
    }

    /// <summary>Drops every entry held at or after <paramref name="index"/>; the stable log is truncated by the driver when it appends.</summary>
    private void TruncateFrom(ulong index)
    {
        if (index < Offset) Offset = index;
        if (index >= End) return;
        if (index >= _sealedEnd)
        {
            var keep = (int)(index - _sealedEnd);
            Array.Clear(_open, keep, _openCount - keep);
            _openCount = keep;
            return;
        }

        ClearOpen();
        if (index <= FirstHeld)
        {
            ClearSegments();
            FirstHeld = index;
            _sealedEnd = index;
            return;
        }

        // Shorten the segment holding index and drop the ones after it; their arrays stay untouched.
        var k = Find(index);
        var last = _head + _segmentCount - 1;
        for (var j = k + 1; j <= last; j++) _segments[j] = default;
        ref var segment = ref _segments[k];
        var kept = (int)(index - segment.First);
        if (kept == 0)
        {
            segment = default;
            _segmentCount = k - _head;
        }
        else
        {
            segment = segment with { Count = kept };
            _segmentCount = k - _head + 1;
        }

        _sealedEnd = index;
    }

    /// <summary>Turns the open buffer into a segment of its own exact-size array (the one copy of a leader's entries).</summary>
    private void Seal()
    {
        var count = _openCount;
        if (count == 0) return;
        var array = new Entry[count];
        _open.AsSpan(0, count).CopyTo(array);
        PushSegment(new Segment(_sealedEnd, array, 0, count));
        _sealedEnd += (ulong)count;
        ClearOpen();

        // After a burst the buffer may be large; release it once batches are much smaller, so that an idle node
        // does not pin memory (and steady large batches do not regrow it every time).
        if (_open.Length > 64 * 1024 && count < _open.Length / 4) _open = new Entry[InitialOpenCapacity];
    }

    private void ClearOpen()
    {
        Array.Clear(_open, 0, _openCount);
        _openCount = 0;
    }

    private void ClearSegments()
    {
        Array.Clear(_segments, _head, _segmentCount);
        _head = 0;
        _segmentCount = 0;
    }

    private void PushSegment(in Segment segment)
    {
        if (_head + _segmentCount == _segments.Length)
        {
            if (_segmentCount <= _segments.Length / 2)
            {
                Array.Copy(_segments, _head, _segments, 0, _segmentCount);
                Array.Clear(_segments, _segmentCount, _head);
            }
            else
            {
                var grown = new Segment[_segments.Length * 2];
                Array.Copy(_segments, _head, grown, 0, _segmentCount);
                _segments = grown;
            }

            _head = 0;
        }

        if (_segmentCount == 0) FirstHeld = segment.First;
        _segments[_head + _segmentCount++] = segment;
    }

    /// <summary>The position in the segment array of the segment holding <paramref name="index"/> (below the open buffer).</summary>
    private int Find(ulong index)
    {
        // Most lookups are near the end of the log.
        var lo = _head;
        var hi = _head + _segmentCount - 1;
        if (index >= _segments[hi].First) return hi;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_segments[mid].First <= index) lo = mid;
            else hi = mid - 1;
        }

        return lo;
    }

    /// <summary>Entries First .. First + Count - 1, held in Array from Start; Array is never written again.</summary>
    private readonly record struct Segment(ulong First, Entry[] Array, int Start, int Count)
    {
        public ulong End => First + (ulong)Count;
    }
}
