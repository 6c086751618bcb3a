namespace RaftCache.Raft.Tests.Scenarios;

/// <summary>
/// <see cref="RaftConfig.Applied"/> on restart: 0 means the state machine reflects the storage's snapshot; any other
/// value must lie between the snapshot index and the commit index, or the node refuses to start (etcd's rule).
/// </summary>
public class RestartAppliedTests
{
    private const ulong SnapshotIndex = 3;
    private const ulong CommitIndex = 5;

    /// <summary>
    /// Storage of a three-voter group restarting: entries 2..6 of term 2, a snapshot at 3 with the log compacted up
    /// to it, and 5 committed.
    /// </summary>
    private static MemStorage Storage()
    {
        var storage = MemStorage.CreateBootstrapped(new ConfState { Voters = [1, 2, 3] });
        storage.Append(Enumerable.Range(2, 5).Select(i => new Entry(2, (ulong)i, EntryType.Normal, new byte[] { (byte)i })).ToArray());
        storage.SetHardState(new HardState(2, 1, CommitIndex));
        storage.CreateSnapshot(SnapshotIndex, null, new byte[] { 3 });
        storage.Compact(SnapshotIndex);
        return storage;
    }

    private static RawNode Restart(ulong applied) => new(new RaftConfig { Id = 1, Applied = applied, Random = new Random(1) }, Storage());

    [Theory]
    [InlineData(0UL, new ulong[] { 4, 5 })]
    [InlineData(3UL, new ulong[] { 4, 5 })]
    [InlineData(4UL, new ulong[] { 5 })]
    [InlineData(5UL, new ulong[0])]
    public void RestartHandsOutTheCommittedEntriesAfterApplied(ulong applied, ulong[] toApply)
    {
        var node = Restart(applied);

        Assert.Equal(applied == 0 ? SnapshotIndex : applied, node.Status.Applied);
        var committed = node.HasReady ? node.GetReady().CommittedEntries : [];
        Assert.Equal(toApply, committed.Select(e => e.Index));
    }

    [Fact]
    public void RestartWithAppliedZeroStartsAtTheSnapshotIndex()
    {
        var node = Restart(0);

        Assert.Equal(SnapshotIndex, node.Status.Applied);
        var ready = node.GetReady();
        Assert.Equal([4UL, 5UL], ready.CommittedEntries.Select(e => e.Index));
        node.Advance(ready);
        Assert.Equal(CommitIndex, node.Status.Applied);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void RestartWithAppliedBelowTheSnapshotIndexIsRefused(ulong applied)
    {
        var e = Assert.Throws<ArgumentException>(() => Restart(applied));

        Assert.Equal("config", e.ParamName);
        Assert.Contains($"RaftConfig.Applied ({applied})", e.Message, StringComparison.Ordinal);
        Assert.Contains($"[{SnapshotIndex}, {CommitIndex}]", e.Message, StringComparison.Ordinal);
        Assert.Contains("restore the state machine from the storage's snapshot", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(6UL)]
    [InlineData(100UL)]
    public void RestartWithAppliedAboveTheCommitIndexIsRefused(ulong applied)
    {
        var e = Assert.Throws<ArgumentException>(() => Restart(applied));

        Assert.Equal("config", e.ParamName);
        Assert.Contains($"RaftConfig.Applied ({applied})", e.Message, StringComparison.Ordinal);
        Assert.Contains($"[{SnapshotIndex}, {CommitIndex}]", e.Message, StringComparison.Ordinal);
        Assert.Contains("commit index", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANodeWithEmptyStorageStartsWithNothingApplied()
    {
        var node = new RawNode(new RaftConfig { Id = 4, Random = new Random(1) }, new MemStorage());

        Assert.Equal(0UL, node.Status.Applied);
        Assert.Throws<ArgumentException>(() => new RawNode(new RaftConfig { Id = 4, Applied = 1, Random = new Random(1) }, new MemStorage()));
    }
}
