namespace RaftCache.StateMachine.Tests;

public class ConcurrentSnapshotTests
{
    private const int Seeds = 12;

    [Fact]
    public void A_view_produced_on_another_thread_while_the_applier_churns_restores_to_the_captured_state()
    {
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var options = new CacheStateMachineOptions { MaxEntries = 15_000 };
            var log = new TestLog(options);
            var initial = 5_000 + (seed * 300);
            Churn.Fill(initial, 1_000_000, log);
            var churn = new Churn(seed, existingKeys: initial) { ClearsPer100K = 0 }; // one Clear, below, after the growth
            churn.Apply(1_000, log);
            var expected = log.Machine.ComputeDigest();
            var expectedContents = TestLog.Contents(log.Machine);
            var view = log.Machine.CaptureView();
            var pagesAtCapture = log.Machine.Table.CurrentPages.Length;

            // The producer takes one permit per chunk, so that its chunks spread over the whole churn below; the applier
            // never waits for it. The follower's side runs on that thread too: chunks go straight into a restorer.
            using var permits = new SemaphoreSlim(0);
            CacheStateMachine? restored = null;
            Exception? failure = null;
            var producer = new Thread(() =>
            {
                try
                {
                    var random = new Random(seed);
                    var chunks = view.CreateSnapshotProducer();
                    var restorer = new SnapshotRestorer(options);
                    var buffer = new byte[2_048];
                    while (!chunks.IsCompleted)
                    {
                        permits.Wait();
                        var written = chunks.WriteNextChunk(buffer.AsSpan(0, random.Next(1, buffer.Length + 1)));
                        restorer.Append(buffer.AsSpan(0, written));
                    }

                    restored = restorer.Complete();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            producer.Start();
            var other = new List<StateMachineView>();
            var grew = false;
            for (var k = 0; k < 150; k++)
            {
                churn.Apply(100, log);
                if (k < 50)
                {
                    churn.Insert(300, log); // grows the shared table, then evicts at the bound
                    grew |= log.Machine.Table.CurrentPages.Length > pagesAtCapture;
                }
                else if (k == 75)
                {
                    log.Apply(CacheCommand.Clear(2_000_000_000));
                }

                // Other views come and go meanwhile: sharing rises and falls under the producer's feet.
                other.Add(log.Machine.CaptureView());
                if (other.Count > 2)
                {
                    other[0].Dispose();
                    other.RemoveAt(0);
                }

                permits.Release(2);
            }

            permits.Release(1_000_000);
            producer.Join();
            Assert.Null(failure);
            Assert.True(grew);
            Assert.True(log.Machine.GetStatistics().EvictedTotal > 0);
            Assert.Equal(expected, restored!.ComputeDigest());
            Assert.Equal(expectedContents, TestLog.Contents(restored));
            view.Dispose();
            other.ForEach(v => v.Dispose());
        }
    }

    [Fact]
    public void Disposing_a_view_while_another_thread_produces_it_stops_the_producer_without_a_wrong_snapshot()
    {
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var log = new TestLog();
            Churn.Fill(8_000, 1_000_000, log);
            var churn = new Churn(seed, existingKeys: 8_000);
            var expected = log.Machine.ComputeDigest();
            var view = log.Machine.CaptureView();
            var started = new ManualResetEventSlim();
            CacheStateMachine? restored = null;
            Exception? failure = null;
            var producer = new Thread(() =>
            {
                try
                {
                    var chunks = view.CreateSnapshotProducer();
                    var restorer = new SnapshotRestorer();
                    var buffer = new byte[257];
                    while (!chunks.IsCompleted)
                    {
                        var written = chunks.WriteNextChunk(buffer);
                        restorer.Append(buffer.AsSpan(0, written));
                        started.Set();
                    }

                    restored = restorer.Complete();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            producer.Start();
            started.Wait();
            churn.Apply(new Random(seed).Next(0, 2_000), log);
            view.Dispose();
            churn.Apply(3_000, log); // writes in place now, unless a chunk is still being produced
            producer.Join();

            if (restored is not null)
            {
                Assert.Equal(expected, restored.ComputeDigest());
            }
            else
            {
                Assert.IsType<ObjectDisposedException>(failure);
            }
        }
    }
}
