namespace RaftCache.StateMachine.Tests;

public class TtlAndLogTimeTests
{
    [Fact]
    public void A_deadline_is_the_put_timestamp_plus_its_ttl()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 1_000, ttl: TimeSpan.FromSeconds(5));
        Assert.True(log.Machine.TryGet(TestLog.B("a"), 1_000, out _, out var deadline));
        Assert.Equal(6_000, deadline);
    }

    [Fact]
    public void A_read_hides_the_entry_from_its_deadline_on_the_readers_clock()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 1_000, ttl: TimeSpan.FromSeconds(5));
        Assert.Equal("1", log.Get("a", now: 5_999));
        Assert.Null(log.Get("a", now: 6_000));
        Assert.Equal(1, log.Machine.Count); // still held: log time has not reached the deadline
    }

    [Fact]
    public void Log_time_removes_entries_at_their_deadline()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 1_000, ttl: TimeSpan.FromSeconds(5));
        log.Put("b", "2", ts: 1_000);
        log.Tick(5_999);
        Assert.Equal(2, log.Machine.Count);
        log.Tick(6_000);
        Assert.Equal(1, log.Machine.Count);
        Assert.Equal(2 + CacheStateMachineOptions.EntryOverheadBytes, log.Machine.TotalBytes);
        Assert.Equal(1, log.Machine.GetStatistics().ExpiredTotal);
        Assert.Null(log.Get("a", now: 0)); // gone even for a reader whose clock lags
    }

    [Fact]
    public void A_lagging_leader_cannot_move_log_time_backwards()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 10_000, ttl: TimeSpan.FromSeconds(1));
        log.Tick(10_500);
        log.Put("b", "2", ts: 9_000); // new leader, clock 1.5 s behind
        Assert.Equal(10_500, log.Machine.LogTimeUnixMs);
        log.Tick(10_999);
        Assert.Equal(2, log.Machine.Count);
        log.Tick(11_000);
        Assert.Equal(1, log.Machine.Count);
    }

    [Fact]
    public void A_put_whose_deadline_already_passed_in_log_time_leaves_the_key_absent()
    {
        var log = new TestLog();
        log.Put("a", "old", ts: 1_000);
        log.Tick(20_000);
        // Proposed by a leader whose clock lags: 10 000 + 5 000 <= 20 000.
        var result = log.Put("a", "new", ts: 10_000, ttl: TimeSpan.FromSeconds(5));
        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        Assert.False(result.Stored);
        Assert.True(result.KeyExisted);
        Assert.Null(log.Get("a", now: 0));
        Assert.Equal(0, log.Machine.Count);
    }

    [Fact]
    public void A_put_whose_deadline_equals_log_time_is_already_expired()
    {
        var log = new TestLog();
        log.Tick(15_000);
        Assert.False(log.Put("a", "1", ts: 10_000, ttl: TimeSpan.FromSeconds(5)).Stored);
        Assert.True(log.Put("a", "1", ts: 10_000, ttl: TimeSpan.FromMilliseconds(5_001)).Stored);
    }

    [Fact]
    public void Any_command_with_a_later_timestamp_advances_expiry()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 0, ttl: TimeSpan.FromMilliseconds(10));
        log.Delete("unrelated", ts: 10);
        Assert.Equal(0, log.Machine.Count);
    }

    [Fact]
    public void An_overwrite_without_ttl_removes_the_old_deadline()
    {
        var log = new TestLog();
        log.Put("a", "1", ts: 0, ttl: TimeSpan.FromMilliseconds(10));
        log.Put("a", "2", ts: 1);
        log.Tick(1_000_000);
        Assert.Equal("2", log.Get("a", now: long.MaxValue - 1));
        Assert.True(log.Machine.TryGet(TestLog.B("a"), 0, out _, out var deadline));
        Assert.Null(deadline);
    }

    [Fact]
    public void Expiry_of_many_entries_happens_in_one_apply()
    {
        var log = new TestLog();
        for (var i = 0; i < 1_000; i++)
        {
            log.Put("k" + i, "v", ts: i, ttl: TimeSpan.FromMilliseconds(1_000));
        }

        log.Tick(1_499);
        Assert.Equal(500, log.Machine.Count);
        log.Tick(5_000);
        Assert.Equal(0, log.Machine.Count);
        Assert.Equal(0, log.Machine.TotalBytes);
    }

    [Fact]
    public void The_next_expiry_is_the_nearest_entry_deadline_or_session_idle_expiry()
    {
        var log = new TestLog(new CacheStateMachineOptions { SessionIdleTimeout = TimeSpan.FromSeconds(60) });
        Assert.Equal(long.MaxValue, log.Machine.NextExpiryUnixMs);
        log.Put("forever", "1", ts: 1_000);
        Assert.Equal(long.MaxValue, log.Machine.NextExpiryUnixMs);
        log.Register(ts: 2_000);
        Assert.Equal(62_000, log.Machine.NextExpiryUnixMs);
        log.Put("soon", "1", ts: 3_000, ttl: TimeSpan.FromSeconds(5));
        Assert.Equal(8_000, log.Machine.NextExpiryUnixMs);
        log.Tick(8_000);
        Assert.Equal(62_000, log.Machine.NextExpiryUnixMs);
    }
}
