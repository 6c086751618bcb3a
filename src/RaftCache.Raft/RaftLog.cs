using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace RaftCache.Raft;

/// <summary>
/// The node's view of its log: the persisted part in <see cref="IStorage"/>, the unstable tail, and the commit and
/// apply indexes (Raft §5.3).
/// </summary>
/// <remarks>Invariants: applied &lt;= committed &lt;= last index; first index - 1 &lt;= applied.</remarks>
internal sealed class RaftLog
{
    private readonly IStorage _storage;
    private readonly Unstable _unstable;

    // The last slice served to a follower. Followers in replicate state usually ask for the same range after a
    // batch of proposals; sharing one array between their messages halves the copies on a three-node group.
    private ulong _cachedLo;
    private ulong _cachedHi;
    private long _cachedMaxSize;
    private ImmutableArray<Entry> _cachedSlice;

    public RaftLog(IStorage storage)
    {
        _storage = storage;
        var first = storage.FirstIndex();
        var last = storage.LastIndex();
        _unstable = new Unstable(last + 1);
        Committed = first - 1;
        Applied = first - 1;
    }

    public ulong Committed { get; private set; }

    public ulong Applied { get; private set; }

    public Unstable Unstable => _unstable;

    public ulong FirstIndex => _unstable.TryFirstIndex(out var index) ? index : _storage.FirstIndex();

    public ulong LastIndex => _unstable.TryLastIndex(out var index) ? index : _storage.LastIndex();

    public ulong LastTerm
    {
        get
        {
            var last = LastIndex;
            return TryTerm(last, out var term) ? term : Throw.Invariant<ulong>($"term of the last index {last} is unavailable.");
        }
    }

    public EntryId LastEntryId => new(LastTerm, LastIndex);

    /// <summary>The term of the entry at <paramref name="index"/>; false if compacted or past the end.</summary>
    public bool TryTerm(ulong index, out ulong term)
    {
        if (_unstable.TryTerm(index, out term)) return true;
        var dummy = FirstIndex - 1;
        if (index < dummy || index > LastIndex)
        {
            term = 0;
            return false;
        }

        // Entries at or after the unstable offset are unstable only; storage may still hold a stale suffix there.
        if (index >= _unstable.Offset && _unstable.Snapshot is null)
        {
            term = 0;
            return false;
        }

        // Persisted entries not yet applied are still held in memory; no need to ask storage (and take its lock).
        if (_unstable.TryHeldTerm(index, out term)) return true;
        try
        {
            term = _storage.Term(index);
            return true;
        }
        catch (StorageException e) when (e.Error is StorageError.Compacted or StorageError.Unavailable)
        {
            term = 0;
            return false;
        }
    }

    /// <summary>The term at <paramref name="index"/>, or 0 when unknown (compacted or past the end).</summary>
    public ulong ZeroTermOnOutOfRange(ulong index) => TryTerm(index, out var term) ? term : 0;

    public bool MatchTerm(ulong index, ulong term) => TryTerm(index, out var t) && t == term;

    /// <summary>Raft §5.4.1: a candidate's log is at least as up to date as ours.</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm)
    {
        var ourTerm = LastTerm;
        return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= LastIndex);
    }

    public void RestoreCommit(ulong commit) => Committed = commit;

    public void CommitTo(ulong commit)
    {
        if (commit <= Committed) return;
        var last = LastIndex;
        if (commit > last) Throw.Invariant($"commit {commit} is out of range [{Committed}, {last}]: the log was truncated or lost.");
        Committed = commit;
    }

    public void AppliedTo(ulong index)
    {
        if (index == 0) return;
        if (index > Committed || index < Applied)
            Throw.Invariant($"applied {index} is out of range [{Applied}, {Committed}].");
        Applied = index;
        _unstable.ReleaseBelow(index + 1);
    }

    /// <summary>Raft §5.4.2: only an entry of the current term is committed by counting.</summary>
    public bool MaybeCommit(ulong index, ulong term)
    {
        if (index > Committed && ZeroTermOnOutOfRange(index) == term)
        {
            CommitTo(index);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Appends <paramref name="entries"/> from <paramref name="start"/> on, replacing any conflicting suffix; the
    /// array is held as it is, not copied (see <see cref="Unstable"/>). Returns the new last index.
    /// </summary>
    public ulong Append(ImmutableArray<Entry> entries, int start)
    {
        if (start >= entries.Length) return LastIndex;
        var after = entries[start].Index - 1;
        if (after < Committed) Throw.Invariant($"append after {after} would overwrite committed {Committed}.");
        _unstable.TruncateAndAppend(entries, start);
        _cachedSlice = default;
        return LastIndex;
    }

    public void AppendOne(in Entry entry)
    {
        if (entry.Index != LastIndex + 1) Throw.Invariant($"entry {entry.Index} does not follow the last index {LastIndex}.");
        _unstable.Append(entry);
    }

    /// <summary>
    /// The follower side of AppendEntries (Raft §5.3): if our log holds (<paramref name="logTerm"/>,
    /// <paramref name="index"/>), appends the entries that conflict or are new and commits up to the leader's
    /// commit; returns false otherwise. Entries we already hold are kept, so a duplicated or reordered append never
    /// truncates the log.
    /// </summary>
    public bool MaybeAppend(ulong index, ulong logTerm, ulong commit, ImmutableArray<Entry> entries, out ulong lastNewIndex)
    {
        if (!MatchTerm(index, logTerm))
        {
            lastNewIndex = 0;
            return false;
        }

        lastNewIndex = index + (ulong)entries.Length;
        var conflict = FindConflict(entries.AsSpan());
        if (conflict != 0)
        {
            if (conflict <= Committed) Throw.Invariant($"entry {conflict} conflicts with committed entry (committed {Committed}).");
            var start = (int)(conflict - (index + 1));
            Append(entries, start);
        }

        CommitTo(Math.Min(commit, lastNewIndex));
        return true;
    }

    /// <summary>The first entry whose index is new or whose term differs from ours; 0 if all match.</summary>
    private ulong FindConflict(ReadOnlySpan<Entry> entries)
    {
        foreach (ref readonly var e in entries)
        {
            if (!MatchTerm(e.Index, e.Term)) return e.Index;
        }

        return 0;
    }

    /// <summary>
    /// For fast backtracking (etcd's approach): the largest index &lt;= <paramref name="index"/> whose term is
    /// &lt;= <paramref name="term"/>, with that term. The two logs cannot match above it.
    /// </summary>
    public (ulong Index, ulong Term) FindConflictByTerm(ulong index, ulong term)
    {
        while (true)
        {
            if (!TryTerm(index, out var ourTerm)) return (index, 0);
            if (ourTerm <= term) return (index, ourTerm);
            index--;
        }
    }

    /// <summary>Entries in [lo, hi) totalling at most <paramref name="maxSize"/> bytes, at least one.</summary>
    /// <exception cref="StorageException">Compacted when lo is below the first index.</exception>
    public ImmutableArray<Entry> Slice(ulong lo, ulong hi, long maxSize)
    {
        if (lo == hi) return [];
        if (lo < FirstIndex) Throw.Storage(StorageError.Compacted);
        if (hi > LastIndex + 1 || lo > hi) Throw.Invariant($"slice [{lo}, {hi}) out of bounds (last {LastIndex}).");
        if (lo == _cachedLo && hi == _cachedHi && maxSize == _cachedMaxSize && !_cachedSlice.IsDefault) return _cachedSlice;

        // Entries from FirstHeld on are in memory (unstable, or persisted and not yet applied); below, in storage.
        var offset = _unstable.FirstHeld;
        ImmutableArray<Entry> result;
        if (lo >= offset)
        {
            result = _unstable.Slice(lo, hi, maxSize);
        }
        else
        {
            var stable = _storage.Entries(lo, Math.Min(hi, offset), maxSize);
            if (hi <= offset || stable.Length < (int)(Math.Min(hi, offset) - lo))
            {
                result = stable;
            }
            else
            {
                long size = 0;
                foreach (ref readonly var e in stable.AsSpan()) size += e.Size;
                var tail = _unstable.Slice(offset, hi, maxSize - size, allowEmpty: true);
                if (tail.IsEmpty)
                {
                    result = stable;
                }
                else
                {
                    var all = new Entry[stable.Length + tail.Length];
                    stable.AsSpan().CopyTo(all);
                    tail.AsSpan().CopyTo(all.AsSpan(stable.Length));
                    result = ImmutableCollectionsMarshal.AsImmutableArray(all);
                }
            }
        }

        _cachedLo = lo;
        _cachedHi = hi;
        _cachedMaxSize = maxSize;
        _cachedSlice = result;
        return result;
    }

    /// <summary>Whether committed entries wait to be applied (none while a snapshot waits to be applied).</summary>
    public bool HasNextCommittedEntries => Committed > Applied && _unstable.Snapshot is null;

    /// <summary>Committed entries not yet applied, up to <paramref name="maxSize"/> bytes.</summary>
    public ImmutableArray<Entry> NextCommittedEntries(long maxSize)
    {
        if (!HasNextCommittedEntries) return [];
        var lo = Math.Max(Applied + 1, FirstIndex);
        var hi = Committed + 1;
        if (lo >= hi) return [];
        var result = Slice(lo, hi, maxSize);
        _cachedSlice = default;
        return result;
    }

    public Snapshot Snapshot(ulong requestIndex) => _unstable.Snapshot ?? _storage.Snapshot(requestIndex);

    /// <summary>Replaces the log by <paramref name="snapshot"/> (Raft §7): everything up to its index is committed.</summary>
    public void Restore(Snapshot snapshot)
    {
        Committed = snapshot.Metadata.Index;
        _unstable.Restore(snapshot);
        _cachedSlice = default;
    }

    public void StableTo(EntryId id)
    {
        _unstable.StableTo(id);
        _unstable.ReleaseBelow(Applied + 1);
    }

    public void StableSnapTo(ulong index)
    {
        _unstable.StableSnapTo(index);
        if (index > Applied) Applied = index;
        _unstable.ReleaseBelow(Applied + 1);
    }

    /// <summary>Whether any entry in (applied, committed] is a configuration change not yet applied.</summary>
    public bool HasUnappliedConfChanges()
    {
        if (Committed <= Applied) return false;
        var lo = Math.Max(Applied + 1, FirstIndex);
        var hi = Committed + 1;
        while (lo < hi)
        {
            var batch = Slice(lo, hi, 8L * 1024 * 1024);
            foreach (ref readonly var e in batch.AsSpan())
            {
                if (e.Type == EntryType.ConfChange) return true;
            }

            lo += (ulong)batch.Length;
        }

        return false;
    }
}
