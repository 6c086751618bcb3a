namespace RaftCache.StateMachine.Tests;

public class SessionTests
{
    private static CacheCommand PutIn(long session, long seq, long lowest, string key, string value, long ts) =>
        CacheCommand.Put(TestLog.B(key), TestLog.B(value), null, ts).WithSession(session, seq, lowest);

    private static CacheCommand DeleteIn(long session, long seq, long lowest, string key, long ts) =>
        CacheCommand.Delete(TestLog.B(key), ts).WithSession(session, seq, lowest);

    [Fact]
    public void A_session_id_is_the_log_index_of_its_registration()
    {
        var log = new TestLog();
        log.Tick(1);
        log.Tick(2);
        Assert.Equal(3, log.Register(ts: 3));
        Assert.Equal(4, log.Register(ts: 3));
        Assert.Equal(2, log.Machine.SessionCount);
    }

    [Fact]
    public void A_retried_command_is_not_applied_again_and_returns_its_original_result()
    {
        var log = new TestLog();
        var s = log.Register(ts: 1);
        log.Put("k", "v", ts: 1);
        var first = log.Apply(DeleteIn(s, 1, 1, "k", ts: 2));
        Assert.True(first.KeyExisted);
        log.Put("k", "again", ts: 3); // written by someone else after the delete
        var retry = log.Apply(DeleteIn(s, 1, 1, "k", ts: 4));
        Assert.Equal(first, retry);
        Assert.Equal("again", log.Get("k", now: 4)); // the retry did not delete it
        Assert.Equal(1, log.Machine.GetStatistics().DuplicateTotal);
    }

    [Fact]
    public void A_retried_put_does_not_overwrite_a_later_value()
    {
        var log = new TestLog();
        var s = log.Register(ts: 1);
        log.Apply(PutIn(s, 1, 1, "k", "first", ts: 1));
        log.Apply(PutIn(s, 2, 1, "k", "second", ts: 2));
        var retry = log.Apply(PutIn(s, 1, 1, "k", "first", ts: 3));
        // The saved result, version included (index 2: the first Put after the registration).
        Assert.Equal(new ApplyResult(ApplyOutcome.Applied, CommandKind.Put, keyExisted: false, stored: true, version: 2), retry);
        Assert.Equal("second", log.Get("k", now: 3));
    }

    [Fact]
    public void Commands_in_flight_may_arrive_out_of_order_and_each_applies_once()
    {
        var log = new TestLog();
        var s = log.Register(ts: 1);
        log.Apply(PutIn(s, 3, 1, "c", "3", ts: 1));
        log.Apply(PutIn(s, 1, 1, "a", "1", ts: 1));
        log.Apply(PutIn(s, 2, 1, "b", "2", ts: 1));
        var sessions = log.Machine.GetSessions();
        Assert.Equal([1L, 2L, 3L], sessions[0].Results.Select(r => r.Sequence));
        Assert.Equal(3, log.Machine.Count);
        log.Apply(PutIn(s, 2, 1, "b", "changed", ts: 1));
        Assert.Equal("2", log.Get("b", now: 1));
    }

    [Fact]
    public void Results_below_the_lowest_unanswered_sequence_are_trimmed_and_never_lowered()
    {
        var log = new TestLog();
        var s = log.Register(ts: 1);
        for (var seq = 1; seq <= 5; seq++)
        {
            log.Apply(PutIn(s, seq, 1, "k" + seq, "v", ts: 1));
        }

        log.Apply(PutIn(s, 6, 4, "k6", "v", ts: 1));
        Assert.Equal([4L, 5L, 6L], log.Machine.GetSessions()[0].Results.Select(r => r.Sequence));
        // A command delayed in flight carries an older, lower watermark: it must not resurrect anything.
        log.Apply(PutIn(s, 7, 2, "k7", "v", ts: 1));
        var session = log.Machine.GetSessions()[0];
        Assert.Equal(4, session.LowestUnacked);
        Assert.Equal([4L, 5L, 6L, 7L], session.Results.Select(r => r.Sequence));
    }

    [Fact]
    public void A_command_below_the_acknowledged_sequence_is_refused_as_stale_and_not_applied()
    {
        var log = new TestLog();
        var s = log.Register(ts: 1);
        log.Apply(PutIn(s, 1, 1, "a", "1", ts: 1));
        log.Apply(PutIn(s, 2, 2, "b", "2", ts: 1));
        log.Delete("a", ts: 1);
        var result = log.Apply(PutIn(s, 1, 1, "a", "1", ts: 1));
        Assert.Equal(ApplyOutcome.StaleSequence, result.Outcome);
        Assert.Null(log.Get("a", now: 1));
    }

    [Fact]
    public void A_command_for_an_unknown_session_is_answered_session_expired_and_not_applied()
    {
        var log = new TestLog();
        var result = log.Apply(PutIn(12345, 1, 1, "k", "v", ts: 1));
        Assert.Equal(new ApplyResult(ApplyOutcome.SessionExpired, CommandKind.Put), result);
        Assert.Null(log.Get("k", now: 1));
        Assert.Equal(1, log.Machine.GetStatistics().SessionExpiredTotal);
    }

    [Fact]
    public void A_session_expires_after_its_idle_period_in_log_time()
    {
        var log = new TestLog(new CacheStateMachineOptions { SessionIdleTimeout = TimeSpan.FromSeconds(10) });
        var s = log.Register(ts: 1_000);
        log.Tick(10_999);
        Assert.True(log.Apply(PutIn(s, 1, 1, "k", "v", ts: 10_999)).IsApplied); // activity refreshes it
        log.Tick(20_998);
        Assert.Equal(1, log.Machine.SessionCount);
        var result = log.Apply(PutIn(s, 2, 1, "k2", "v", ts: 20_999));
        Assert.Equal(ApplyOutcome.SessionExpired, result.Outcome);
        Assert.Equal(0, log.Machine.SessionCount);
        Assert.Null(log.Get("k2", now: 20_999));
    }

    [Fact]
    public void A_retry_after_expiry_is_not_applied_twice()
    {
        var log = new TestLog(new CacheStateMachineOptions { SessionIdleTimeout = TimeSpan.FromSeconds(1) });
        var s = log.Register(ts: 0);
        log.Apply(DeleteIn(s, 1, 1, "k", ts: 0));
        log.Put("k", "v", ts: 500);
        Assert.Equal(ApplyOutcome.SessionExpired, log.Apply(DeleteIn(s, 1, 1, "k", ts: 1_000)).Outcome);
        Assert.Equal("v", log.Get("k", now: 1_000));
    }

    [Fact]
    public void A_full_session_table_drops_the_least_recently_active_session()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxSessions = 2 });
        var first = log.Register(ts: 1);
        var second = log.Register(ts: 2);
        log.Apply(CacheCommand.Clear(3).WithSession(first, 1, 1)); // first is now the most recent
        var third = log.Register(ts: 4);
        Assert.Equal([first, third], log.Machine.GetSessions().Select(x => x.Id));
        Assert.Equal(ApplyOutcome.SessionExpired, log.Apply(CacheCommand.Clear(5).WithSession(second, 1, 1)).Outcome);
        Assert.Equal(1, log.Machine.GetStatistics().SessionsExpiredTotal);
    }

    [Fact]
    public void Commands_without_session_are_not_deduplicated()
    {
        var log = new TestLog();
        log.Put("k", "v", ts: 1);
        Assert.True(log.Delete("k", ts: 1).KeyExisted);
        log.Put("k", "v", ts: 1);
        Assert.True(log.Delete("k", ts: 1).KeyExisted);
    }

    [Fact]
    public void A_rejected_session_command_is_not_saved_as_a_result()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxKeyBytes = 2 });
        var s = log.Register(ts: 1);
        Assert.Equal(ApplyOutcome.Rejected, log.Apply(PutIn(s, 1, 1, "long", "v", ts: 1)).Outcome);
        Assert.Empty(log.Machine.GetSessions()[0].Results);
    }
}
