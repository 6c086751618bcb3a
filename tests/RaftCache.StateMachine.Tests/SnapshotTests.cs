namespace RaftCache.StateMachine.Tests;

public class SnapshotTests
{
    internal static TestLog BuildState()
    {
        var log = new TestLog();
        var s1 = log.Register(ts: 1_000);
        var s2 = log.Register(ts: 1_001);
        log.Put("forever", "value", ts: 1_002);
        log.Put("soon", "x", ts: 1_003, ttl: TimeSpan.FromSeconds(10));
        log.Put("later", new string('z', 100_000), ts: 1_004, ttl: TimeSpan.FromHours(1));
        log.Apply(CacheCommand.Delete(TestLog.B("forever"), 1_005).WithSession(s1, 1, 1));
        log.Apply(CacheCommand.Put(TestLog.B("s"), TestLog.B("v"), null, 1_006).WithSession(s1, 2, 1));
        log.Apply(CacheCommand.Put(TestLog.B("t"), TestLog.B("w"), TimeSpan.FromSeconds(3), 1_007).WithSession(s2, 5, 3));
        for (var i = 0; i < 200; i++)
        {
            log.Put("bulk" + i, "v" + i, ts: 1_008 + i, ttl: i % 3 == 0 ? null : TimeSpan.FromSeconds(i + 1));
        }

        return log;
    }

    internal static void AssertSameState(CacheStateMachine expected, CacheStateMachine actual)
    {
        Assert.Equal(expected.AppliedIndex, actual.AppliedIndex);
        Assert.Equal(expected.LogTimeUnixMs, actual.LogTimeUnixMs);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.TotalBytes, actual.TotalBytes);
        Assert.Equal(TestLog.Contents(expected), TestLog.Contents(actual));
        var es = expected.GetSessions();
        var @as = actual.GetSessions();
        Assert.Equal(es.Count, @as.Count);
        for (var i = 0; i < es.Count; i++)
        {
            Assert.Equal((es[i].Id, es[i].LastActiveUnixMs, es[i].LowestUnacked), (@as[i].Id, @as[i].LastActiveUnixMs, @as[i].LowestUnacked));
            Assert.Equal(es[i].Results, @as[i].Results);
        }

        Assert.Equal(expected.ComputeDigest(), actual.ComputeDigest());
    }

    [Fact]
    public void A_restored_snapshot_has_the_same_contents_sessions_and_digest()
    {
        var source = BuildState().Machine;
        var target = new CacheStateMachine();
        target.Restore(source.CreateSnapshot());
        AssertSameState(source, target);
        Assert.True(target.TryGet(TestLog.B("soon"), 1_003, out var v));
        Assert.Equal("x"u8.ToArray(), v.ToArray());
    }

    [Fact]
    public void Applying_the_same_entries_after_a_restore_keeps_the_states_equal()
    {
        var source = BuildState();
        var target = new TestLog();
        target.Machine.Restore(source.Machine.CreateSnapshot());
        var s = source.Machine.GetSessions()[0].Id;
        foreach (var log in new[] { source, target })
        {
            log.Tick(12_000);
            log.Put("x", "y", ts: 12_001, ttl: TimeSpan.FromMinutes(1));
            log.Apply(CacheCommand.Delete(TestLog.B("forever"), 12_002).WithSession(s, 1, 1));
        }

        AssertSameState(source.Machine, target.Machine);
    }

    [Fact]
    public void A_snapshot_can_be_streamed_and_restored_from_a_stream()
    {
        var source = BuildState().Machine;
        using var stream = new MemoryStream();
        source.WriteSnapshot(stream);
        stream.Position = 0;
        var target = new CacheStateMachine();
        target.Restore(stream);
        AssertSameState(source, target);
    }

    [Fact]
    public void A_snapshot_replaces_the_whole_previous_state()
    {
        var target = new TestLog();
        target.Put("stale", "x", ts: 99_999_999);
        target.Register(ts: 99_999_999);
        var empty = new CacheStateMachine();
        target.Machine.Restore(empty.CreateSnapshot());
        AssertSameState(empty, target.Machine);
    }

    [Fact]
    public void Every_single_corrupted_byte_is_rejected_and_the_previous_state_kept()
    {
        var snapshot = BuildState().Machine.CreateSnapshot();
        var target = new TestLog();
        target.Put("mine", "1", ts: 5);
        var digest = target.Machine.ComputeDigest();
        // Every byte of the header and of the first entries, then a stride through the rest.
        var positions = Enumerable.Range(0, 200).Concat(Enumerable.Range(0, snapshot.Length / 97).Select(i => 200 + (i * 97)))
            .Where(p => p < snapshot.Length).Append(snapshot.Length - 1);
        foreach (var position in positions)
        {
            var corrupt = (byte[])snapshot.Clone();
            corrupt[position] ^= 0x5A;
            Assert.Throws<SnapshotFormatException>(() => target.Machine.Restore(corrupt));
        }

        Assert.Equal(digest, target.Machine.ComputeDigest());
        Assert.Equal("1", target.Get("mine", now: 5));
    }

    [Fact]
    public void Every_truncation_is_rejected_as_truncated_and_the_previous_state_kept()
    {
        var snapshot = BuildState().Machine.CreateSnapshot();
        var target = new TestLog();
        target.Put("mine", "1", ts: 5);
        var digest = target.Machine.ComputeDigest();
        var lengths = Enumerable.Range(0, 120).Concat(Enumerable.Range(0, snapshot.Length / 61).Select(i => i * 61)).Append(snapshot.Length - 1);
        foreach (var length in lengths.Where(l => l < snapshot.Length))
        {
            var e = Assert.Throws<SnapshotFormatException>(() => target.Machine.Restore(snapshot.AsMemory(0, length)));
            Assert.Equal(SnapshotFormatError.Truncated, e.Reason);
        }

        Assert.Equal(digest, target.Machine.ComputeDigest());
    }

    [Fact]
    public void A_bad_magic_an_unknown_version_and_trailing_bytes_are_reported_as_such()
    {
        var snapshot = new CacheStateMachine().CreateSnapshot();
        var target = new CacheStateMachine();

        var badMagic = (byte[])snapshot.Clone();
        badMagic[0] = (byte)'X';
        Assert.Equal(SnapshotFormatError.BadMagic, Assert.Throws<SnapshotFormatException>(() => target.Restore(badMagic)).Reason);

        foreach (var version in new byte[] { 1, 2, 4 })
        {
            // Version 1 (heap-ordered entries, sessions last) and 2 (no sliding expiration, no versions in saved results)
            // are no longer read; a future version is not understood.
            var badVersion = (byte[])snapshot.Clone();
            badVersion[4] = version;
            Assert.Equal(SnapshotFormatError.UnsupportedVersion, Assert.Throws<SnapshotFormatException>(() => target.Restore(badVersion)).Reason);
        }

        var longer = snapshot.Append((byte)0).ToArray();
        Assert.Equal(SnapshotFormatError.TrailingBytes, Assert.Throws<SnapshotFormatException>(() => target.Restore(longer)).Reason);

        var flipped = (byte[])snapshot.Clone();
        flipped[^1] ^= 1;
        Assert.Equal(SnapshotFormatError.ChecksumMismatch, Assert.Throws<SnapshotFormatException>(() => target.Restore(flipped)).Reason);
    }

    [Fact]
    public void A_snapshot_larger_than_the_local_limits_is_refused()
    {
        var snapshot = BuildState().Machine.CreateSnapshot();
        var small = new CacheStateMachine(new CacheStateMachineOptions { MaxEntries = 10 });
        Assert.Equal(SnapshotFormatError.ExceedsLimits, Assert.Throws<SnapshotFormatException>(() => small.Restore(snapshot)).Reason);
        Assert.Equal(0, small.Count);
    }

    [Fact]
    public void Snapshots_of_the_same_history_are_byte_identical()
    {
        // Same log, same table history, same table order: the same bytes, on one replica or two.
        var machine = BuildState().Machine;
        Assert.Equal(machine.CreateSnapshot(), machine.CreateSnapshot());
        Assert.Equal(machine.CreateSnapshot(), BuildState().Machine.CreateSnapshot());
    }

    [Fact]
    public void A_state_restored_from_a_snapshot_has_the_same_digest_and_snapshots_to_an_equal_state()
    {
        // Entries are written in table order, and a restored table is sized differently from a grown one, so the bytes
        // may differ; the states, and so the digests, may not.
        var source = BuildState().Machine;
        var restored = new CacheStateMachine();
        restored.Restore(source.CreateSnapshot());
        Assert.Equal(source.ComputeDigest(), restored.ComputeDigest());
        var again = new CacheStateMachine();
        again.Restore(restored.CreateSnapshot());
        AssertSameState(source, again);
    }
}
