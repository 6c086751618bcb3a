using System.Buffers;

namespace RaftCache.StateMachine.Tests;

public class SnapshotViewTests
{
    // Enough entries for a table of several pages, so that copy-on-write works page by page.
    private const int Initial = 12_000;
    private static readonly CacheStateMachineOptions Bounded = new() { MaxEntries = Initial };

    [Fact]
    public void A_view_restores_to_the_state_at_capture_whatever_is_applied_afterwards()
    {
        var log = new TestLog(Bounded);
        var twin = new TestLog(Bounded); // the same log without views: the live state must not notice them
        Churn.Fill(Initial / 3, 1_000_000, log, twin);
        var churn = new Churn(seed: 7, existingKeys: Initial / 3);
        churn.Apply(2_000, log, twin);
        var pagesAtCapture = log.Machine.Table.CurrentPages.Length;
        Assert.True(pagesAtCapture > 1);

        var expected = new CacheStateMachine(Bounded);
        var snapshotAtCapture = log.Machine.CreateSnapshot();
        expected.Restore(snapshotAtCapture);
        using var view = log.Machine.CaptureView();
        Assert.Equal(log.Machine.AppliedIndex, view.AppliedIndex);
        Assert.Equal(log.Machine.Count, view.Count);
        Assert.Equal(log.Machine.TotalBytes, view.TotalBytes);
        Assert.Equal(log.Machine.SessionCount, view.SessionCount);

        // Growth to the bound (the table is rebuilt), evictions, overwrites, deletes, expiry, clears, sessions.
        var after = new Churn(seed: 8, startTime: 2_000_000, existingKeys: Initial / 3) { ClearsPer100K = 0 };
        after.Apply(10_000, log, twin);
        after.Insert(Initial, log, twin);
        after.Apply(30_000, log, twin);
        Assert.True(log.Machine.Table.CurrentPages.Length > pagesAtCapture);
        Assert.True(log.Machine.GetStatistics().EvictedTotal > 0);
        Assert.True(log.Machine.GetStatistics().ExpiredTotal > 0);
        after.ClearsPer100K = 50;
        after.Apply(10_000, log, twin);
        Assert.True(log.Machine.Count < Bounded.MaxEntries);

        var restored = TestLog.RestoreInPieces(TestLog.ProduceInChunks(view, new Random(1), 5_000), new Random(2), 3_000, Bounded);
        SnapshotTests.AssertSameState(expected, restored);
        // Same replica, same table at the same point: the view's bytes are those of a snapshot taken at capture.
        Assert.Equal(snapshotAtCapture, TestLog.ProduceInChunks(view, new Random(3), 100));
        SnapshotTests.AssertSameState(twin.Machine, log.Machine);
    }

    [Fact]
    public void Several_views_at_different_indexes_produce_their_own_points_in_time_even_interleaved()
    {
        var log = new TestLog(Bounded);
        Churn.Fill(Initial, 1_000_000, log);
        var churn = new Churn(seed: 11, existingKeys: Initial);
        var views = new List<(StateMachineView View, byte[] Expected)>();
        for (var i = 0; i < 4; i++)
        {
            churn.Apply(5_000, log);
            views.Add((log.Machine.CaptureView(), log.Machine.CreateSnapshot()));
        }

        churn.Apply(5_000, log);

        // One chunk from each view in turn, as several transfers to different followers would.
        var producers = views.Select(v => v.View.CreateSnapshotProducer()).ToArray();
        var outputs = producers.Select(_ => new ArrayBufferWriter<byte>()).ToArray();
        var random = new Random(5);
        while (producers.Any(p => !p.IsCompleted))
        {
            for (var i = 0; i < producers.Length; i++)
            {
                producers[i].WriteNextChunk(outputs[i], random.Next(1, 2_000));
            }

            churn.Apply(20, log);
        }

        for (var i = 0; i < views.Count; i++)
        {
            Assert.Equal(views[i].Expected, outputs[i].WrittenSpan.ToArray());
        }

        // Dispose out of order; once no view is left, writes stop copying pages.
        foreach (var i in new[] { 2, 0, 3, 1 })
        {
            views[i].View.Dispose();
            churn.Apply(1_000, log);
        }

        var copies = log.Machine.Table.PageCopies;
        churn.Apply(5_000, log);
        Assert.Equal(copies, log.Machine.Table.PageCopies);
    }

    [Fact]
    public void Writes_after_a_capture_copy_each_shared_page_at_most_once()
    {
        var log = new TestLog();
        Churn.Fill(Initial, 1_000_000, log);
        var pages = log.Machine.Table.CurrentPages.Length;
        Assert.True(pages > 1);
        var before = log.Machine.Table.PageCopies;
        using (var view = log.Machine.CaptureView())
        {
            for (var i = 0; i < Initial; i++)
            {
                log.Apply(CacheCommand.Put(Churn.Key(i), TestLog.B("new" + i), null, 2_000_000));
            }

            Assert.Equal(pages, log.Machine.Table.PageCopies - before);
        }

        for (var i = 0; i < Initial; i++)
        {
            log.Apply(CacheCommand.Delete(Churn.Key(i), 2_000_001));
        }

        Assert.Equal(pages, log.Machine.Table.PageCopies - before);
    }

    [Fact]
    public void Capturing_a_view_copies_no_entries()
    {
        var log = new TestLog();
        Churn.Fill(Initial, 1_000_000, log);
        log.Register(ts: 1_000_001);
        using (log.Machine.CaptureView())
        {
            // Warm up anything allocated once per process.
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        using var view = log.Machine.CaptureView();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        // The page directory (a few references), one session and the view itself; the entries alone are ~500 KB.
        Assert.True(allocated < 2_000, $"CaptureView allocated {allocated} bytes.");
        Assert.Equal(Initial, view.Count);
    }

    [Fact]
    public void A_view_survives_a_clear_and_a_restore_of_its_state_machine()
    {
        var log = new TestLog();
        Churn.Fill(2_000, 1_000_000, log);
        var expected = log.Machine.CreateSnapshot();
        using var view = log.Machine.CaptureView();
        log.Apply(CacheCommand.Clear(1_000_001));
        Churn.Fill(100, 1_000_002, log);
        log.Machine.Restore(new CacheStateMachine().CreateSnapshot());
        Assert.Equal(expected, TestLog.ProduceInChunks(view, new Random(1), 777));
    }

    [Fact]
    public void A_disposed_view_produces_nothing_more_and_disposing_twice_is_harmless()
    {
        var log = new TestLog();
        Churn.Fill(100, 1_000_000, log);
        var view = log.Machine.CaptureView();
        var producer = view.CreateSnapshotProducer();
        var buffer = new byte[64];
        Assert.Equal(64, producer.WriteNextChunk(buffer));
        view.Dispose();
        view.Dispose();
        Assert.True(view.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => producer.WriteNextChunk(buffer));
        Assert.Throws<ObjectDisposedException>(view.CreateSnapshotProducer);
        Assert.Throws<ObjectDisposedException>(() => view.WriteSnapshot(new MemoryStream()));
        Assert.Throws<ArgumentException>(() => log.Machine.CaptureView().CreateSnapshotProducer().WriteNextChunk(Span<byte>.Empty));
    }

    [Fact]
    public void A_view_of_an_empty_state_machine_is_a_complete_snapshot()
    {
        var machine = new CacheStateMachine();
        using var view = machine.CaptureView();
        var bytes = TestLog.ProduceInChunks(view, new Random(1), 3);
        Assert.Equal(machine.CreateSnapshot(), bytes);
        SnapshotTests.AssertSameState(machine, TestLog.RestoreInPieces(bytes, new Random(2), 1));
    }

    [Fact]
    public void A_faulted_state_machine_refuses_to_capture_a_view()
    {
        var log = new TestLog();
        Assert.Throws<StateMachineFaultedException>(() => log.Machine.Apply(1, new byte[] { 99 }));
        Assert.Throws<StateMachineFaultedException>(log.Machine.CaptureView);
    }
}
