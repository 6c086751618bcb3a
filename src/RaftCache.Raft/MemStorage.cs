using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace RaftCache.Raft;

/// <summary>
/// An in-memory <see cref="IStorage"/>: the log, the latest snapshot, the hard state and the configuration.
/// The driver writes it between <see cref="RawNode.GetReady"/> and <see cref="RawNode.Advance"/>.
/// </summary>
/// <remarks>
/// Thread safety: every member takes one private lock, so another thread (a monitoring probe, a snapshot sender)
/// may read while the driver writes. Returned arrays and snapshots are immutable copies, never views of the
/// internal buffer. Internally the log starts with a dummy entry that carries the snapshot's (term, index).
/// </remarks>
public sealed class MemStorage : IStorage
{
    private readonly Lock _lock = new();

    // _entries[0] is the dummy entry of the snapshot point; _entries[k] has index _entries[0].Index + k.
    private readonly List<Entry> _entries = [default];
    private HardState _hardState;
    private ConfState _confState = ConfState.Empty;
    private Snapshot _snapshot = RaftCache.Raft.Snapshot.Empty;
    private long _logBytes;

    /// <summary>Creates empty storage: a node that has no configuration and waits for a leader to add it.</summary>
    public MemStorage()
    {
    }

    /// <summary>
    /// Creates storage for a brand-new group whose initial members are <paramref name="confState"/>. Every initial
    /// member must be bootstrapped with the same configuration; members added later start from <see cref="MemStorage()"/>.
    /// </summary>
    /// <remarks>
    /// The initial configuration is recorded as a snapshot at index 1, term 1, with empty application data (the
    /// state of an empty state machine). A node added later lacks entry 1, which is compacted, so the leader sends
    /// it a snapshot and it learns the configuration that its own addition changes. The hard state starts at
    /// term 1 with index 1 committed.
    /// </remarks>
    public static MemStorage CreateBootstrapped(ConfState confState)
    {
        ArgumentNullException.ThrowIfNull(confState);
        if (confState.Voters.IsEmpty) throw new ArgumentException("A bootstrapped group needs at least one voter.", nameof(confState));
        var storage = new MemStorage();
        storage._confState = confState;
        storage._snapshot = new Snapshot(new SnapshotMetadata(BootstrapIndex, BootstrapTerm, confState), ReadOnlyMemory<byte>.Empty);
        storage._entries[0] = new Entry(BootstrapTerm, BootstrapIndex, EntryType.Normal, ReadOnlyMemory<byte>.Empty);
        storage._hardState = new HardState(BootstrapTerm, RaftConfig.None, BootstrapIndex);
        return storage;
    }

    /// <summary>The index of the snapshot that <see cref="CreateBootstrapped"/> records.</summary>
    public const ulong BootstrapIndex = 1;

    /// <summary>The term of the snapshot that <see cref="CreateBootstrapped"/> records.</summary>
    public const ulong BootstrapTerm = 1;

    /// <inheritdoc/>
    public RaftState InitialState()
    {
        lock (_lock) return new RaftState(_hardState, _confState);
    }

    /// <summary>The total <see cref="Entry.Size"/> of the entries in the log (after the snapshot point).</summary>
    public long LogBytes
    {
        get
        {
            lock (_lock) return _logBytes;
        }
    }

    /// <summary>The persisted hard state.</summary>
    public HardState HardState
    {
        get
        {
            lock (_lock) return _hardState;
        }
    }

    /// <summary>The configuration in storage.</summary>
    public ConfState ConfState
    {
        get
        {
            lock (_lock) return _confState;
        }
    }

    /// <summary>Persists the hard state.</summary>
    public void SetHardState(HardState hardState)
    {
        lock (_lock) _hardState = hardState;
    }

    /// <summary>Persists the configuration (after applying a configuration change).</summary>
    public void SetConfState(ConfState confState)
    {
        ArgumentNullException.ThrowIfNull(confState);
        lock (_lock) _confState = confState;
    }

    /// <inheritdoc/>
    public ImmutableArray<Entry> Entries(ulong low, ulong high, long maxSize)
    {
        lock (_lock)
        {
            var offset = _entries[0].Index;
            if (low <= offset) Throw.Storage(StorageError.Compacted);
            if (high > LastIndexLocked() + 1) Throw.Storage(StorageError.Unavailable);
            if (low >= high) return [];
            var start = (int)(low - offset);
            var end = (int)(high - offset);
            long size = 0;
            var count = 0;
            for (var k = start; k < end; k++)
            {
                size += _entries[k].Size;
                if (size > maxSize && count > 0) break;
                count++;
            }

            var result = new Entry[count];
            CollectionsMarshal.AsSpan(_entries).Slice(start, count).CopyTo(result);
            return ImmutableCollectionsMarshal.AsImmutableArray(result);
        }
    }

    /// <inheritdoc/>
    public ulong Term(ulong index)
    {
        lock (_lock)
        {
            var offset = _entries[0].Index;
            if (index < offset) Throw.Storage(StorageError.Compacted);
            if (index > LastIndexLocked()) Throw.Storage(StorageError.Unavailable);
            return _entries[(int)(index - offset)].Term;
        }
    }

    /// <inheritdoc/>
    public ulong FirstIndex()
    {
        lock (_lock) return _entries[0].Index + 1;
    }

    /// <inheritdoc/>
    public ulong LastIndex()
    {
        lock (_lock) return LastIndexLocked();
    }

    /// <inheritdoc/>
    public Snapshot Snapshot(ulong requestIndex)
    {
        lock (_lock) return _snapshot;
    }

    /// <summary>
    /// Appends entries, replacing any suffix of the log that conflicts with them (Raft §5.3). Entries already
    /// compacted are skipped.
    /// </summary>
    /// <exception cref="ArgumentException">The entries would leave a gap after the last index.</exception>
    public void Append(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty) return;
        lock (_lock)
        {
            var first = _entries[0].Index + 1;
            var last = entries[^1].Index;
            if (last < first) return;
            if (entries[0].Index < first) entries = entries[(int)(first - entries[0].Index)..];
            var position = entries[0].Index - _entries[0].Index;
            if (position > (ulong)_entries.Count)
                throw new ArgumentException($"Entry {entries[0].Index} leaves a gap after the last index {LastIndexLocked()}.", nameof(entries));
            if (position < (ulong)_entries.Count)
            {
                _logBytes -= SizeOf((int)position, _entries.Count);
                _entries.RemoveRange((int)position, _entries.Count - (int)position);
            }

            _entries.AddRange(entries);
            foreach (ref readonly var entry in entries) _logBytes += entry.Size;
        }
    }

    /// <summary>Appends entries; see <see cref="Append(ReadOnlySpan{Entry})"/>.</summary>
    public void Append(ImmutableArray<Entry> entries) => Append(entries.AsSpan());

    /// <summary>
    /// Discards the log up to and including <paramref name="compactIndex"/>, which must be applied and covered by
    /// a snapshot the application can produce. Keeps the term of <paramref name="compactIndex"/>.
    /// </summary>
    /// <exception cref="StorageException">Compacted if already compacted past it; Unavailable if past the last index.</exception>
    public void Compact(ulong compactIndex)
    {
        lock (_lock)
        {
            var offset = _entries[0].Index;
            if (compactIndex <= offset) Throw.Storage(StorageError.Compacted);
            if (compactIndex > LastIndexLocked()) Throw.Storage(StorageError.Unavailable);
            var k = (int)(compactIndex - offset);
            var dummy = new Entry(_entries[k].Term, compactIndex, EntryType.Normal, ReadOnlyMemory<byte>.Empty);
            _logBytes -= SizeOf(1, k + 1);
            _entries.RemoveRange(0, k);
            _entries[0] = dummy;
        }
    }

    /// <summary>
    /// The lowest index whose compaction leaves at most <paramref name="retainedBytes"/> of entries (by
    /// <see cref="Entry.Size"/>) in the log: for compacting a log back under a byte budget.
    /// </summary>
    public ulong CompactionIndexFor(long retainedBytes)
    {
        lock (_lock)
        {
            long kept = 0;
            var k = _entries.Count - 1;
            while (k > 0 && kept + _entries[k].Size <= retainedBytes) kept += _entries[k--].Size;
            return _entries[0].Index + (ulong)k;
        }
    }

    /// <summary>
    /// Records a snapshot of the application state at <paramref name="index"/> (which must be applied) so that
    /// lagging followers can be sent it. Does not compact; call <see cref="Compact"/> afterwards if wanted.
    /// </summary>
    /// <param name="index">The applied index the data reflects.</param>
    /// <param name="confState">The configuration in force at <paramref name="index"/>; null for the current one.</param>
    /// <param name="data">The application's serialized state.</param>
    /// <exception cref="StorageException">SnapshotOutOfDate if not newer than the current snapshot; Unavailable if past the last index.</exception>
    public Snapshot CreateSnapshot(ulong index, ConfState? confState, ReadOnlyMemory<byte> data)
    {
        lock (_lock)
        {
            if (index <= _snapshot.Metadata.Index) Throw.Storage(StorageError.SnapshotOutOfDate);
            if (index > LastIndexLocked()) Throw.Storage(StorageError.Unavailable);
            var offset = _entries[0].Index;
            if (index < offset) Throw.Storage(StorageError.Compacted);
            var term = _entries[(int)(index - offset)].Term;
            _snapshot = new Snapshot(new SnapshotMetadata(index, term, confState ?? _confState), data);
            return _snapshot;
        }
    }

    /// <summary>Replaces the whole log by <paramref name="snapshot"/> received from the leader (Raft §7).</summary>
    /// <exception cref="StorageException">SnapshotOutOfDate if older than the snapshot already held.</exception>
    public void ApplySnapshot(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_lock)
        {
            var metadata = snapshot.Metadata;
            if (metadata.Index < _snapshot.Metadata.Index) Throw.Storage(StorageError.SnapshotOutOfDate);
            _snapshot = snapshot;
            _entries.Clear();
            _entries.Add(new Entry(metadata.Term, metadata.Index, EntryType.Normal, ReadOnlyMemory<byte>.Empty));
            _logBytes = 0;
            _confState = metadata.ConfState;
            if (_hardState.Term < metadata.Term) _hardState = _hardState with { Term = metadata.Term };
            if (_hardState.Commit < metadata.Index) _hardState = _hardState with { Commit = metadata.Index };
        }
    }

    private long SizeOf(int start, int end)
    {
        long size = 0;
        for (var k = start; k < end; k++) size += _entries[k].Size;
        return size;
    }

    private ulong LastIndexLocked() => _entries[0].Index + (ulong)_entries.Count - 1;
}
