namespace RaftCache.StateMachine.Tests;

public class EvictionTests
{
    [Fact]
    public void The_entry_count_bound_holds_after_every_apply_and_the_oldest_write_goes_first()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxEntries = 3 });
        for (var i = 0; i < 10; i++)
        {
            log.Put("k" + i, "v", ts: i);
            Assert.True(log.Machine.Count <= 3);
        }

        Assert.Equal(["k7", "k8", "k9"], log.Machine.GetEntriesSorted().Select(e => System.Text.Encoding.UTF8.GetString(e.Key)));
        Assert.Equal(7, log.Machine.GetStatistics().EvictedTotal);
    }

    [Fact]
    public void The_soonest_deadline_is_evicted_before_older_writes_without_deadline()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxEntries = 3 });
        log.Put("forever", "v", ts: 1);
        log.Put("late", "v", ts: 2, ttl: TimeSpan.FromHours(2));
        log.Put("soon", "v", ts: 3, ttl: TimeSpan.FromHours(1));
        var result = log.Put("new", "v", ts: 4);
        Assert.Equal(1, result.Count);
        Assert.Null(log.Get("soon", now: 4));
        log.Put("newer", "v", ts: 5);
        Assert.Null(log.Get("late", now: 5));
        log.Put("newest", "v", ts: 6);
        Assert.Null(log.Get("forever", now: 6));
        Assert.Equal("v", log.Get("new", now: 6));
    }

    [Fact]
    public void Equal_deadlines_evict_the_oldest_write_first()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxEntries = 2 });
        log.Put("b", "v", ts: 0, ttl: TimeSpan.FromSeconds(10));
        log.Put("a", "v", ts: 0, ttl: TimeSpan.FromSeconds(10));
        log.Put("c", "v", ts: 0, ttl: TimeSpan.FromSeconds(10));
        Assert.Null(log.Get("b", now: 0));
        Assert.NotNull(log.Get("a", now: 0));
    }

    [Fact]
    public void The_byte_bound_evicts_as_many_entries_as_needed()
    {
        // An entry costs its key and value plus the fixed overhead: the two small entries fit together, but neither
        // fits next to the large one.
        const int overhead = CacheStateMachineOptions.EntryOverheadBytes;
        var log = new TestLog(new CacheStateMachineOptions { MaxKeyBytes = 2, MaxValueBytes = 10, MaxTotalBytes = 14 + (2 * overhead) });
        log.Put("a", "1234", ts: 0); // 5 bytes + overhead
        log.Put("b", "1234", ts: 0); // 10 bytes + 2 × overhead
        var result = log.Put("c", "123456789", ts: 0); // 10 bytes + overhead: both others must go
        Assert.Equal(2, result.Count);
        Assert.Equal(10 + overhead, log.Machine.TotalBytes);
        Assert.Equal(1, log.Machine.Count);
    }

    [Fact]
    public void The_entry_being_written_is_never_its_own_victim()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxEntries = 2 });
        log.Put("x", "v", ts: 0);
        log.Put("y", "v", ts: 0);
        // The new entry has the soonest deadline, yet an older entry makes room for it.
        log.Put("z", "v", ts: 0, ttl: TimeSpan.FromMilliseconds(1));
        Assert.Equal("v", log.Get("z", now: 0));
        Assert.Null(log.Get("x", now: 0));
    }

    [Fact]
    public void Overwriting_a_key_at_the_bound_evicts_nothing_when_its_size_does_not_grow()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxEntries = 2 });
        log.Put("x", "v", ts: 0);
        log.Put("y", "v", ts: 0);
        Assert.Equal(0, log.Put("x", "w", ts: 0).Count);
        Assert.Equal(2, log.Machine.Count);
    }

    [Fact]
    public void Overwriting_refreshes_the_write_order()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxEntries = 2 });
        log.Put("x", "v", ts: 0);
        log.Put("y", "v", ts: 0);
        log.Put("x", "w", ts: 0);
        log.Put("z", "v", ts: 0);
        Assert.Null(log.Get("y", now: 0));
        Assert.Equal("w", log.Get("x", now: 0));
    }
}
