namespace RaftCache.StateMachine.Tests;

/// <summary>Conditional puts, increments, sliding expiration and refresh: decided by the log alone, so every replica agrees.</summary>
public class AtomicAndSlidingTests
{
    private static readonly byte[] K = TestLog.B("k");

    private static CacheCommand PutIf(string value, long expected, long ts, TimeSpan? ttl = null) =>
        CacheCommand.Put(K, TestLog.B(value), ttl, ts, null, null, expected);

    private static CacheCommand PutSliding(string value, long ts, TimeSpan sliding, TimeSpan? ttl = null, long? absolute = null) =>
        CacheCommand.Put(K, TestLog.B(value), ttl, ts, sliding, absolute, null);

    [Fact]
    public void A_put_if_absent_stores_once_and_then_reports_the_current_version()
    {
        var log = new TestLog();
        var first = log.Apply(PutIf("a", 0, ts: 1));
        Assert.Equal(ApplyOutcome.Applied, first.Outcome);
        Assert.Equal(1, first.Version);

        var second = log.Apply(PutIf("b", 0, ts: 2));
        Assert.Equal(new ApplyResult(ApplyOutcome.ConditionFailed, CommandKind.Put, keyExisted: true, version: 1), second);
        Assert.Equal("a", log.Get("k", now: 2));
    }

    [Fact]
    public void Compare_and_set_succeeds_only_at_the_expected_version()
    {
        var log = new TestLog();
        log.Put("k", "v1", ts: 1); // version 1
        Assert.Equal(ApplyOutcome.ConditionFailed, log.Apply(PutIf("stale", 7, ts: 2)).Outcome);
        var swapped = log.Apply(PutIf("v2", 1, ts: 3)); // index 3
        Assert.Equal(ApplyOutcome.Applied, swapped.Outcome);
        Assert.Equal(3, swapped.Version);
        var lost = log.Apply(PutIf("v3", 1, ts: 4));
        Assert.Equal(ApplyOutcome.ConditionFailed, lost.Outcome);
        Assert.Equal(3, lost.Version);
        Assert.Equal("v2", log.Get("k", now: 4));

        log.Delete("k", ts: 5);
        var absent = log.Apply(PutIf("v4", 3, ts: 6));
        Assert.Equal(new ApplyResult(ApplyOutcome.ConditionFailed, CommandKind.Put, keyExisted: false, version: 0), absent);
    }

    [Fact]
    public void An_entry_expired_in_log_time_counts_as_absent_for_a_condition()
    {
        var log = new TestLog();
        log.Put("k", "old", ts: 0, ttl: TimeSpan.FromMilliseconds(100));
        Assert.Equal(ApplyOutcome.Applied, log.Apply(PutIf("new", 0, ts: 100)).Outcome);
        Assert.Equal("new", log.Get("k", now: 100));
    }

    [Fact]
    public void A_retried_compare_and_set_returns_its_first_result_even_after_the_version_moved()
    {
        var log = new TestLog();
        var s = log.Register(ts: 1);
        var cas = PutIf("mine", 0, ts: 2).WithSession(s, 1, 1);
        var first = log.Apply(cas);
        log.Put("k", "theirs", ts: 3);
        Assert.Equal(first, log.Apply(cas));
        Assert.Equal("theirs", log.Get("k", now: 3));
    }

    [Fact]
    public void Increment_creates_adds_and_keeps_the_expiry_of_an_existing_key()
    {
        var log = new TestLog();
        var created = log.Apply(CacheCommand.Increment(K, 5, TimeSpan.FromSeconds(10), 0));
        Assert.Equal((ApplyOutcome.Applied, 5L, 1L), (created.Outcome, created.Number, created.Version));
        var added = log.Apply(CacheCommand.Increment(K, -7, TimeSpan.FromHours(1), 1_000));
        Assert.Equal((ApplyOutcome.Applied, -2L, 2L), (added.Outcome, added.Number, added.Version));
        Assert.Equal("-2", log.Get("k", now: 1_000));
        Assert.True(log.Machine.TryGetEntry(K, 1_000, out var entry));
        Assert.Equal(10_000, entry.DeadlineUnixMs); // the first TTL, not the second
        log.Tick(10_000);
        Assert.Null(log.Get("k", now: 10_000));
    }

    [Fact]
    public void Increment_of_a_value_that_is_not_an_integer_or_that_would_overflow_changes_nothing()
    {
        var log = new TestLog();
        log.Put("k", "twelve", ts: 1);
        Assert.Equal(ApplyOutcome.NotAnInteger, log.Apply(CacheCommand.Increment(K, 1, null, 2)).Outcome);
        Assert.Equal("twelve", log.Get("k", now: 2));
        log.Put("k", " 1", ts: 3);
        Assert.Equal(ApplyOutcome.NotAnInteger, log.Apply(CacheCommand.Increment(K, 1, null, 4)).Outcome);

        log.Put("k", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), ts: 5);
        var overflow = log.Apply(CacheCommand.Increment(K, 1, null, 6));
        Assert.Equal((ApplyOutcome.Overflow, long.MaxValue), (overflow.Outcome, overflow.Number));
        var down = log.Apply(CacheCommand.Increment(K, long.MinValue, null, 7));
        Assert.Equal(-1, down.Number);
        Assert.Equal(ApplyOutcome.Overflow, log.Apply(CacheCommand.Increment(K, long.MinValue, null, 8)).Outcome);
    }

    [Fact]
    public void A_retried_increment_in_a_session_adds_once()
    {
        var log = new TestLog();
        var s = log.Register(ts: 1);
        var increment = CacheCommand.Increment(K, 10, null, 2).WithSession(s, 1, 1);
        Assert.Equal(10, log.Apply(increment).Number);
        Assert.Equal(10, log.Apply(increment).Number);
        Assert.Equal("10", log.Get("k", now: 2));
    }

    [Fact]
    public void A_refresh_moves_a_sliding_deadline_by_log_time_and_keeps_the_version()
    {
        var log = new TestLog();
        log.Apply(PutSliding("v", ts: 0, TimeSpan.FromMilliseconds(1_000)));
        Assert.True(log.Machine.TryGetEntry(K, 0, out var entry));
        Assert.Equal((1L, 1_000L, 1_000L), (entry.Version, entry.DeadlineUnixMs!.Value, entry.SlidingMilliseconds!.Value));

        var refreshed = log.Apply(CacheCommand.Refresh(K, 600));
        Assert.Equal(new ApplyResult(ApplyOutcome.Applied, CommandKind.Refresh, keyExisted: true, version: 1), refreshed);
        Assert.True(log.Machine.TryGetEntry(K, 600, out entry));
        Assert.Equal((1L, 1_600L), (entry.Version, entry.DeadlineUnixMs!.Value));

        log.Tick(1_599);
        Assert.Equal("v", log.Get("k", now: 1_599));
        log.Tick(1_600);
        Assert.Null(log.Get("k", now: 1_600));
        Assert.Equal(0, log.Machine.Count);
        Assert.False(log.Apply(CacheCommand.Refresh(K, 1_700)).KeyExisted);
    }

    [Fact]
    public void A_refresh_never_moves_the_deadline_past_the_absolute_bound()
    {
        var log = new TestLog();
        log.Apply(PutSliding("v", ts: 0, TimeSpan.FromMilliseconds(1_000), ttl: TimeSpan.FromMilliseconds(1_500)));
        log.Apply(CacheCommand.Refresh(K, 900));
        Assert.True(log.Machine.TryGetEntry(K, 900, out var entry));
        Assert.Equal(1_500, entry.DeadlineUnixMs);

        var absolute = new TestLog();
        absolute.Apply(PutSliding("v", ts: 0, TimeSpan.FromMilliseconds(1_000), absolute: 1_200));
        absolute.Apply(CacheCommand.Refresh(K, 900));
        Assert.True(absolute.Machine.TryGetEntry(K, 900, out entry));
        Assert.Equal(1_200, entry.DeadlineUnixMs);
    }

    [Fact]
    public void A_refresh_stamped_by_a_lagging_clock_uses_log_time_and_never_shortens_the_window()
    {
        var log = new TestLog();
        log.Apply(PutSliding("v", ts: 1_000, TimeSpan.FromMilliseconds(1_000)));
        log.Apply(CacheCommand.Refresh(K, 500)); // a leader whose clock lags: log time stays 1 000
        Assert.True(log.Machine.TryGetEntry(K, 1_000, out var entry));
        Assert.Equal(2_000, entry.DeadlineUnixMs);
    }

    [Fact]
    public void A_refresh_of_an_entry_without_sliding_expiration_changes_nothing()
    {
        var log = new TestLog();
        log.Put("k", "v", ts: 0, ttl: TimeSpan.FromSeconds(1));
        var digest = log.Machine.ComputeDigest();
        var refreshed = log.Apply(CacheCommand.Refresh(K, 0)); // same log time: only the index moves
        Assert.True(refreshed.KeyExisted);
        Assert.True(log.Machine.TryGetEntry(K, 0, out var entry));
        Assert.Equal((1_000L, (long?)null), (entry.DeadlineUnixMs!.Value, entry.SlidingMilliseconds));
        Assert.NotEqual(digest, log.Machine.ComputeDigest()); // the applied index is part of the digest
    }

    [Fact]
    public void Sliding_entries_survive_a_snapshot_with_their_window_and_cap()
    {
        var log = new TestLog();
        log.Apply(PutSliding("v", ts: 0, TimeSpan.FromMilliseconds(1_000), ttl: TimeSpan.FromMilliseconds(5_000)));
        var restored = new CacheStateMachine();
        restored.Restore(log.Machine.CreateSnapshot());
        Assert.Equal(log.Machine.ComputeDigest(), restored.ComputeDigest());

        foreach (var (ts, deadline) in new[] { (900L, 1_900L), (1_800L, 2_800L), (2_700L, 3_700L), (3_600L, 4_600L), (4_500L, 5_000L) })
        {
            // Each refresh within the window moves the deadline; the last one is capped by the TTL.
            var refresh = CommandCodec.Encode(CacheCommand.Refresh(K, ts));
            log.Machine.Apply(log.Machine.AppliedIndex + 1, refresh);
            restored.Apply(restored.AppliedIndex + 1, refresh);
            Assert.True(restored.TryGetEntry(K, ts, out var entry));
            Assert.Equal(deadline, entry.DeadlineUnixMs);
            Assert.Equal(log.Machine.ComputeDigest(), restored.ComputeDigest());
        }
    }

    [Fact]
    public void Invalid_windows_and_versions_are_rejected_on_apply()
    {
        var log = new TestLog();
        var negativeVersion = new CacheCommand(CommandKind.Put, 1, K, TestLog.B("v"), null, 0, 0, 0, new CommandExtras(null, null, -1, 0));
        Assert.Equal(CommandValidationError.InvalidVersion, CommandValidator.Check(negativeVersion, log.Machine.Options));
        var tooLong = CacheCommand.Put(K, TestLog.B("v"), null, 1, TimeSpan.FromDays(3650), null, null);
        Assert.Equal(CommandValidationError.TtlTooLarge, CommandValidator.Check(tooLong, log.Machine.Options));
        var result = log.Apply(CacheCommand.Put(K, TestLog.B("v"), null, 1, TimeSpan.FromDays(3650), null, null));
        Assert.Equal((ApplyOutcome.Rejected, CommandValidationError.TtlTooLarge), (result.Outcome, result.Error));
        Assert.Null(log.Get("k", now: 1));
    }
}
