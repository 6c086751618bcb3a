namespace RaftCache.Raft.Tests.Storage;

public class MemStorageTests
{
    private static Entry E(ulong term, ulong index) => new(term, index, EntryType.Normal, new byte[] { (byte)index });

    private static MemStorage WithEntries(params (ulong Term, ulong Index)[] entries)
    {
        var storage = MemStorage.CreateBootstrapped(new ConfState { Voters = [1] });
        storage.Append(entries.Select(e => E(e.Term, e.Index)).ToArray());
        return storage;
    }

    [Fact]
    public void BootstrappedStorageRecordsInitialVotersAtIndexOne()
    {
        var storage = MemStorage.CreateBootstrapped(new ConfState { Voters = [1, 2, 3] });
        var state = storage.InitialState();
        Assert.Equal([1UL, 2, 3], state.ConfState.Voters.ToArray());
        Assert.Equal(new HardState(1, 0, 1), state.HardState);
        Assert.Equal(2UL, storage.FirstIndex());
        Assert.Equal(1UL, storage.LastIndex());
        Assert.Equal(1UL, storage.Term(1));
    }

    [Fact]
    public void LogBytesFollowAppendsReplacementsCompactionAndSnapshots()
    {
        var size = E(1, 2).Size;
        var storage = WithEntries((1, 2), (1, 3), (1, 4), (1, 5));
        Assert.Equal(4 * size, storage.LogBytes);

        storage.Append(new[] { E(2, 4) });
        Assert.Equal(3 * size, storage.LogBytes);

        storage.Compact(3);
        Assert.Equal(size, storage.LogBytes);

        storage.ApplySnapshot(new Snapshot(new SnapshotMetadata(10, 3, new ConfState { Voters = [1] }), ReadOnlyMemory<byte>.Empty));
        Assert.Equal(0, storage.LogBytes);
    }

    [Fact]
    public void CompactionIndexForABudgetKeepsTheNewestEntriesThatFit()
    {
        var size = E(1, 2).Size;
        var storage = WithEntries((1, 2), (1, 3), (1, 4), (1, 5), (1, 6));

        Assert.Equal(4UL, storage.CompactionIndexFor(2 * size));
        Assert.Equal(4UL, storage.CompactionIndexFor((3 * size) - 1));
        Assert.Equal(6UL, storage.CompactionIndexFor(0));
        Assert.Equal(1UL, storage.CompactionIndexFor(100 * size));

        storage.Compact(storage.CompactionIndexFor(2 * size));
        Assert.Equal(2 * size, storage.LogBytes);
    }

    [Fact]
    public void EmptyStorageHasEmptyConfiguration()
    {
        var storage = new MemStorage();
        Assert.Equal(ConfState.Empty, storage.InitialState().ConfState);
        Assert.True(storage.InitialState().HardState.IsEmpty);
        Assert.Equal(0UL, storage.LastIndex());
    }

    [Fact]
    public void AppendReplacesConflictingSuffix()
    {
        var storage = WithEntries((1, 2), (2, 3), (2, 4));
        storage.Append(new[] { E(3, 3) });
        Assert.Equal(3UL, storage.LastIndex());
        Assert.Equal(3UL, storage.Term(3));
        Assert.Equal(1UL, storage.Term(2));
    }

    [Fact]
    public void AppendWithGapIsRefused() =>
        Assert.Throws<ArgumentException>(() => WithEntries((1, 2)).Append(new[] { E(1, 5) }));

    [Fact]
    public void EntriesAreLimitedBySizeButAtLeastOne()
    {
        var storage = WithEntries((1, 2), (1, 3), (1, 4));
        var size = E(1, 2).Size;
        Assert.Single(storage.Entries(2, 5, 0));
        Assert.Equal(2, storage.Entries(2, 5, 2 * size).Length);
        Assert.Equal(3, storage.Entries(2, 5, long.MaxValue).Length);
    }

    [Fact]
    public void CompactedAndUnavailableIndexesAreTypedErrors()
    {
        var storage = WithEntries((1, 2), (1, 3), (2, 4));
        storage.Compact(3);
        Assert.Equal(4UL, storage.FirstIndex());
        Assert.Equal(1UL, storage.Term(3));
        Assert.Equal(StorageError.Compacted, Assert.Throws<StorageException>(() => storage.Term(2)).Error);
        Assert.Equal(StorageError.Compacted, Assert.Throws<StorageException>(() => storage.Entries(3, 5, long.MaxValue)).Error);
        Assert.Equal(StorageError.Unavailable, Assert.Throws<StorageException>(() => storage.Entries(4, 9, long.MaxValue)).Error);
        Assert.Equal(StorageError.Unavailable, Assert.Throws<StorageException>(() => storage.Term(9)).Error);
        Assert.Equal(StorageError.Compacted, Assert.Throws<StorageException>(() => storage.Compact(2)).Error);
    }

    [Fact]
    public void SnapshotsAreCreatedAppliedAndCheckedForAge()
    {
        var storage = WithEntries((1, 2), (2, 3), (2, 4));
        var snapshot = storage.CreateSnapshot(3, null, new byte[] { 9 });
        Assert.Equal(new SnapshotMetadata(3, 2, storage.ConfState), snapshot.Metadata);
        Assert.Same(snapshot, storage.Snapshot(0));
        Assert.Equal(StorageError.SnapshotOutOfDate, Assert.Throws<StorageException>(() => storage.CreateSnapshot(2, null, default)).Error);

        var follower = new MemStorage();
        var cs = new ConfState { Voters = [1, 2] };
        follower.ApplySnapshot(new Snapshot(new SnapshotMetadata(10, 4, cs), new byte[] { 1 }));
        Assert.Equal(11UL, follower.FirstIndex());
        Assert.Equal(10UL, follower.LastIndex());
        Assert.Equal(4UL, follower.Term(10));
        Assert.Equal(cs, follower.ConfState);
        Assert.Equal(StorageError.SnapshotOutOfDate,
            Assert.Throws<StorageException>(() => follower.ApplySnapshot(new Snapshot(new SnapshotMetadata(5, 3, cs), default))).Error);
    }

    [Fact]
    public void ReadsFromAnotherThreadSeeConsistentLogWhileDriverWrites()
    {
        var storage = MemStorage.CreateBootstrapped(new ConfState { Voters = [1] });
        var failures = 0;
        var done = false;
        var reader = new Thread(() =>
        {
            while (!Volatile.Read(ref done))
            {
                var first = storage.FirstIndex();
                var last = storage.LastIndex();
                if (last < first) continue;
                try
                {
                    var entries = storage.Entries(first, last + 1, long.MaxValue);
                    for (var k = 1; k < entries.Length; k++)
                    {
                        if (entries[k].Index != entries[k - 1].Index + 1) Interlocked.Increment(ref failures);
                    }
                }
                catch (StorageException)
                {
                    // Compacted between the two calls: expected.
                }
            }
        });
        reader.Start();
        for (ulong i = 2; i < 20_000; i++)
        {
            storage.Append(new[] { E(1, i) });
            if (i % 1000 == 0) storage.Compact(i - 500);
        }

        Volatile.Write(ref done, true);
        reader.Join();
        Assert.Equal(0, failures);
        Assert.Equal(19_999UL, storage.LastIndex());
    }
}
