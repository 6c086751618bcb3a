using System.Collections.Immutable;
using RaftCache.Raft.Testing;

namespace RaftCache.Raft.Tests.Allocation;

/// <summary>
/// The in-memory log hands out arrays without copying them (see <c>Unstable</c>). These tests pin down what makes
/// that safe: an array handed out is never written again, truncation on conflict leaves it intact, and ranges that
/// are not one whole array are still copied correctly.
/// </summary>
public sealed class SharedArrayTests
{
    private static readonly ReadOnlyMemory<byte> Payload = new byte[] { 1, 2, 3 };

    private static Entry E(ulong term, ulong index) => new(term, index, EntryType.Normal, Payload);

    private static ImmutableArray<Entry> Entries(ulong term, ulong from, ulong to)
    {
        var builder = ImmutableArray.CreateBuilder<Entry>();
        for (var i = from; i <= to; i++) builder.Add(E(term, i));
        return builder.ToImmutable();
    }

    // ImmutableArray's own equality compares array references; compare the contents.
    private static void AssertEntries(ImmutableArray<Entry> expected, ImmutableArray<Entry> actual) =>
        Assert.Equal(expected.ToArray(), actual.ToArray());

    [Fact]
    public void FollowerHandsOnTheMessageArray_WithoutACopy()
    {
        var unstable = new Unstable(1);
        var message = Entries(1, 1, 4);
        unstable.TruncateAndAppend(message, 0);

        var handedOut = unstable.ToImmutable();

        Assert.True(handedOut == message, "the message's array itself is handed out");
    }

    [Fact]
    public void LeaderSealsItsProposals_AndSharesTheBatchArray()
    {
        var unstable = new Unstable(1);
        for (ulong i = 1; i <= 5; i++) unstable.Append(E(1, i));

        var forFollowers = unstable.Slice(1, 6, long.MaxValue);
        var forStorage = unstable.ToImmutable();
        unstable.Append(E(1, 6));

        Assert.True(forFollowers == forStorage, "one array for the Append messages and Ready.Entries");
        AssertEntries(Entries(1, 1, 5), forFollowers);
        Assert.Equal(6, unstable.Count);
    }

    [Fact]
    public void ConflictTruncation_LeavesHandedOutArraysIntact()
    {
        var unstable = new Unstable(1);
        var first = Entries(1, 1, 5);
        unstable.TruncateAndAppend(first, 0);
        var handedOut = unstable.ToImmutable();

        // A new leader's entries replace 3..5 (Raft §5.3).
        var conflicting = Entries(2, 3, 4);
        unstable.TruncateAndAppend(conflicting, 0);

        AssertEntries(Entries(1, 1, 5), handedOut);
        AssertEntries(Entries(1, 1, 5), first);
        AssertEntries([E(1, 1), E(1, 2), E(2, 3), E(2, 4)], unstable.ToImmutable());
        Assert.Equal(5UL, unstable.End);
    }

    [Fact]
    public void ConflictInsideTheOpenBuffer_KeepsSealedArraysIntact()
    {
        var unstable = new Unstable(1);
        for (ulong i = 1; i <= 3; i++) unstable.Append(E(1, i));
        var sealedBatch = unstable.ToImmutable();
        for (ulong i = 4; i <= 6; i++) unstable.Append(E(1, i));

        unstable.TruncateAndAppend(Entries(2, 2, 2), 0);

        AssertEntries(Entries(1, 1, 3), sealedBatch);
        AssertEntries([E(1, 1), E(2, 2)], unstable.ToImmutable());
    }

    [Fact]
    public void RangesAcrossSegments_AreCopied()
    {
        var unstable = new Unstable(1);
        unstable.TruncateAndAppend(Entries(1, 1, 3), 0);
        unstable.TruncateAndAppend(Entries(1, 1, 6), 3);
        for (ulong i = 7; i <= 8; i++) unstable.Append(E(1, i));

        AssertEntries(Entries(1, 2, 7), unstable.Slice(2, 8, long.MaxValue));
        AssertEntries(Entries(1, 1, 8), unstable.ToImmutable());

        // The size limit still admits at least one entry, and stops before the entry that crosses it.
        var oneEntry = E(1, 1).Size;
        AssertEntries(Entries(1, 3, 5), unstable.Slice(3, 9, (3 * oneEntry) + 1));
        AssertEntries(Entries(1, 4, 4), unstable.Slice(4, 9, 1));
        Assert.Empty(unstable.Slice(4, 9, 1, allowEmpty: true));
    }

    [Fact]
    public void PersistedEntries_AreHeldUntilApplied()
    {
        var unstable = new Unstable(1);
        var batch = Entries(1, 1, 4);
        unstable.TruncateAndAppend(batch, 0);
        unstable.StableTo(new EntryId(1, 4));

        Assert.Equal(0, unstable.Count);
        Assert.Equal(5UL, unstable.Offset);
        Assert.True(unstable.TryHeldTerm(2, out var term));
        Assert.Equal(1UL, term);
        Assert.False(unstable.TryTerm(2, out _));
        Assert.True(unstable.Slice(1, 5, long.MaxValue) == batch, "committed entries reuse the array handed out as Entries");

        unstable.ReleaseBelow(5);

        Assert.Equal(5UL, unstable.FirstHeld);
        Assert.False(unstable.TryHeldTerm(2, out _));
    }

    [Fact]
    public void StaleStableAcknowledgement_DoesNotMoveTheOffset()
    {
        var unstable = new Unstable(1);
        unstable.TruncateAndAppend(Entries(1, 1, 4), 0);
        unstable.TruncateAndAppend(Entries(2, 3, 4), 0);

        unstable.StableTo(new EntryId(1, 4));

        Assert.Equal(1UL, unstable.Offset);
        Assert.Equal(4, unstable.Count);
    }

    [Fact]
    public void ThreeNodeGroup_AppliesTheSameEntriesOnEveryNode()
    {
        var cluster = new CommitCluster(recordApplied: true);
        var payload = new ReadOnlyMemory<byte>(new byte[64]);
        foreach (var batch in new[] { 1, 7, 64, 1024, 3 }) cluster.Commit(20_000, batch, payload);

        var leader = cluster.AppliedIds(0);
        for (var i = 0; i < leader.Count; i++)
        {
            Assert.Equal(leader[0].Index + (ulong)i, leader[i].Index);
        }

        for (var node = 1; node < 3; node++)
        {
            var follower = cluster.AppliedIds(node);
            Assert.True(follower.Count >= leader.Count - 1024 - 2, $"node {node + 1} applied {follower.Count} of {leader.Count}");
            for (var i = 0; i < follower.Count; i++) Assert.Equal(leader[i], follower[i]);
        }
    }

    [Fact]
    public void EntryIs32Bytes_AndKeepsEveryPart()
    {
        Assert.Equal(32, System.Runtime.CompilerServices.Unsafe.SizeOf<Entry>());

        var entry = new Entry(Entry.MaxTerm, ulong.MaxValue, EntryType.ConfChange, Payload);
        var (term, index, type, data) = entry;

        Assert.Equal((Entry.MaxTerm, ulong.MaxValue, EntryType.ConfChange), (term, index, type));
        Assert.True(data.Equals(Payload));
        Assert.Equal(EntryType.ConfChange, (entry with { Term = 7 }).Type);
        Assert.Equal(7UL, (entry with { Term = 7 }).Term);
        Assert.Equal(Entry.MaxTerm, (entry with { Type = EntryType.Normal }).Term);
        Assert.Equal(new Entry(3, 4, EntryType.Normal, Payload), E(3, 4));
        Assert.NotEqual(new Entry(3, 4, EntryType.ConfChange, Payload), E(3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Entry(Entry.MaxTerm + 1, 1, EntryType.Normal, Payload));
    }
}
