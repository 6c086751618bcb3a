namespace RaftCache.StateMachine.Tests;

public class ApplyTests
{
    [Fact]
    public void A_put_stores_the_value_and_reports_that_the_key_was_new()
    {
        var log = new TestLog();
        var result = log.Put("a", "1", ts: 100);
        // The version is the Put's log index (the first entry here).
        Assert.Equal(new ApplyResult(ApplyOutcome.Applied, CommandKind.Put, keyExisted: false, stored: true, version: 1), result);
        Assert.Equal("1", log.Get("a", now: 100));
        Assert.True(log.Machine.ContainsKey(TestLog.B("a"), 100));
        Assert.False(log.Machine.ContainsKey(TestLog.B("b"), 100));
        Assert.Equal(1, log.Machine.Count);
        Assert.Equal(2 + CacheStateMachineOptions.EntryOverheadBytes, log.Machine.TotalBytes);
        Assert.Equal(1, log.Machine.AppliedIndex);
    }

    [Fact]
    public void A_put_over_an_existing_key_replaces_it_and_reports_it_existed()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 100);
        var result = log.Put("a", "22", ts: 101);
        Assert.True(result.KeyExisted);
        Assert.Equal("22", log.Get("a", now: 101));
        Assert.Equal(1, log.Machine.Count);
        Assert.Equal(3 + CacheStateMachineOptions.EntryOverheadBytes, log.Machine.TotalBytes);
    }

    [Fact]
    public void A_delete_reports_whether_it_removed_a_key()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 1);
        Assert.True(log.Delete("a", ts: 2).KeyExisted);
        Assert.False(log.Delete("a", ts: 3).KeyExisted);
        Assert.Null(log.Get("a", now: 3));
        Assert.Equal(0, log.Machine.Count);
        Assert.Equal(0, log.Machine.TotalBytes);
    }

    [Fact]
    public void A_clear_removes_every_entry_keeps_sessions_and_reports_how_many()
    {
        var log = new TestLog();
        var session = log.Register(ts: 1);
        log.Put("a", "1", ts: 1);
        log.Put("b", "2", ts: 1);
        var result = log.Apply(CacheCommand.Clear(2));
        Assert.Equal(2, result.Count);
        Assert.Equal(0, log.Machine.Count);
        Assert.Equal(0, log.Machine.TotalBytes);
        Assert.Null(log.Get("a", now: 2));
        Assert.Equal(1, log.Machine.SessionCount);
        Assert.True(log.Apply(CacheCommand.Put(TestLog.B("c"), TestLog.B("3"), null, 3).WithSession(session, 1, 1)).IsApplied);
    }

    [Fact]
    public void A_tick_advances_log_time_only()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 1);
        var result = log.Tick(500);
        Assert.Equal(new ApplyResult(ApplyOutcome.Applied, CommandKind.Tick), result);
        Assert.Equal(500, log.Machine.LogTimeUnixMs);
        Assert.Equal("1", log.Get("a", now: 500));
    }

    [Fact]
    public void Entries_at_or_below_the_applied_index_are_ignored()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 1);
        log.Put("a", "2", ts: 2);
        var digest = log.Machine.ComputeDigest();
        var replay = log.Machine.Apply(1, CommandCodec.Encode(CacheCommand.Put(TestLog.B("a"), TestLog.B("1"), null, 1)));
        Assert.Equal(ApplyOutcome.Ignored, replay.Outcome);
        Assert.Equal(ApplyOutcome.Ignored, log.Machine.Apply(2, new byte[] { 0xFF }).Outcome);
        Assert.Equal("2", log.Get("a", now: 3));
        Assert.Equal(digest, log.Machine.ComputeDigest());
        Assert.True(log.Machine.IsHealthy);
    }

    [Fact]
    public void An_index_that_skips_entries_is_refused_without_effect()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Machine.Apply(3, CommandCodec.Encode(CacheCommand.Tick(5))));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Machine.ApplyNoOp(3));
        Assert.Equal(1, log.Machine.AppliedIndex);
        Assert.Equal(1, log.Machine.LogTimeUnixMs);
    }

    [Fact]
    public void A_no_op_advances_the_applied_index_only()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 10);
        var before = TestLog.Contents(log.Machine);
        log.Machine.ApplyNoOp(2);
        log.Machine.ApplyNoOp(2);
        Assert.Equal(2, log.Machine.AppliedIndex);
        Assert.Equal(10, log.Machine.LogTimeUnixMs);
        Assert.Equal(before, TestLog.Contents(log.Machine));
        Assert.Equal(ApplyOutcome.Applied, log.Put("b", "2", ts: 11).Outcome);
    }

    [Fact]
    public void An_undecodable_committed_entry_faults_the_machine_and_every_later_apply_is_refused()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 1);
        var bad = CommandCodec.Encode(CacheCommand.Tick(2));
        bad[0] = 7;
        var e = Assert.Throws<StateMachineFaultedException>(() => log.Machine.Apply(2, bad));
        Assert.Equal(2, e.FaultedIndex);
        Assert.Equal(CommandDecodeError.UnknownVersion, e.Fault.Reason);
        Assert.False(log.Machine.IsHealthy);
        Assert.Same(e, log.Machine.Fault);
        Assert.Equal(1, log.Machine.AppliedIndex);

        // The entry is never skipped: neither it, a later one, a no-op nor a restore is accepted.
        var good = CommandCodec.Encode(CacheCommand.Tick(3));
        Assert.Throws<StateMachineFaultedException>(() => log.Machine.Apply(2, good));
        Assert.Throws<StateMachineFaultedException>(() => log.Machine.Apply(3, good));
        Assert.Throws<StateMachineFaultedException>(() => log.Machine.ApplyNoOp(2));
        Assert.Throws<StateMachineFaultedException>(() => log.Machine.Restore(new CacheStateMachine().CreateSnapshot()));
        Assert.Equal(1, log.Machine.AppliedIndex);

        // Reads keep working on the last good state.
        Assert.Equal("1", log.Get("a", now: 1));
    }

    [Fact]
    public void A_committed_command_that_breaks_the_limits_is_rejected_the_same_way_everywhere_without_effect()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxKeyBytes = 4 });
        log.Put("a", "1", ts: 5);
        var digest = log.Machine.ComputeDigest();
        var result = log.Put("too-long", "x", ts: 1_000);
        Assert.Equal(ApplyOutcome.Rejected, result.Outcome);
        Assert.Equal(CommandValidationError.KeyTooLarge, result.Error);
        Assert.Equal(5, log.Machine.LogTimeUnixMs);
        Assert.Equal(2, log.Machine.AppliedIndex);
        Assert.True(log.Machine.IsHealthy);
        Assert.NotEqual(digest, log.Machine.ComputeDigest()); // only the applied index moved
        Assert.Equal(1, log.Machine.Count);
    }

    [Fact]
    public void A_stored_value_is_a_copy_of_the_entry_bytes()
    {
        var log = new TestLog();
        var payload = CommandCodec.Encode(CacheCommand.Put(TestLog.B("k"), TestLog.B("v"), null, 1));
        log.Machine.Apply(1, payload);
        payload.AsSpan().Clear();
        Assert.Equal("v", log.Get("k", now: 1));
    }

    [Fact]
    public void Statistics_reflect_the_applied_state()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxEntries = 2 });
        log.Register(ts: 1);
        log.Put("a", "1", ts: 1, ttl: TimeSpan.FromMilliseconds(10));
        log.Put("b", "2", ts: 1);
        log.Put("c", "3", ts: 1);
        log.Tick(100);
        var stats = log.Machine.GetStatistics();
        Assert.Equal(5, stats.AppliedIndex);
        Assert.Equal(100, stats.LogTimeUnixMs);
        Assert.Equal(2, stats.Count);
        Assert.Equal(4 + (2 * CacheStateMachineOptions.EntryOverheadBytes), stats.TotalBytes);
        Assert.Equal(1, stats.SessionCount);
        Assert.Equal(1, stats.EvictedTotal);
        Assert.Equal(0, stats.ExpiredTotal);
    }
}
