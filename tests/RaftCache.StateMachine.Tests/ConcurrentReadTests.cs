using System.Buffers.Binary;

namespace RaftCache.StateMachine.Tests;

public class ConcurrentReadTests
{
    [Fact]
    public void Readers_running_during_applies_restores_and_copy_on_write_only_ever_see_whole_values()
    {
        var log = new TestLog(new CacheStateMachineOptions { MaxEntries = 50 });
        var snapshot = log.Machine.CreateSnapshot();
        var keys = Enumerable.Range(0, 64).Select(i => TestLog.B("key" + i)).ToArray();
        using var stop = new CancellationTokenSource();
        var torn = 0;
        var hits = 0L;

        var readers = Enumerable.Range(0, 2).Select(r => new Thread(() =>
        {
            var i = r;
            while (!stop.IsCancellationRequested)
            {
                if (log.Machine.TryGet(keys[i++ % keys.Length], 0, out var value))
                {
                    // Every value is a version number written twice; a torn or recycled buffer breaks the pair.
                    var span = value.Span;
                    if (span.Length != 16 || BinaryPrimitives.ReadInt64LittleEndian(span) != BinaryPrimitives.ReadInt64LittleEndian(span[8..]))
                    {
                        Interlocked.Increment(ref torn);
                    }

                    Interlocked.Increment(ref hits);
                }

                _ = log.Machine.Count;
                _ = log.Machine.GetStatistics();
            }
        })).ToArray();
        foreach (var reader in readers)
        {
            reader.Start();
        }

        var rng = new Random(1234);
        StateMachineView? view = null;
        for (var n = 0; n < 200_000; n++)
        {
            var value = new byte[16];
            BinaryPrimitives.WriteInt64LittleEndian(value, n);
            BinaryPrimitives.WriteInt64LittleEndian(value.AsSpan(8), n);
            var roll = rng.Next(1_000);
            if (roll == 0)
            {
                log.Machine.Restore(snapshot);
            }
            else if (roll == 1)
            {
                snapshot = log.Machine.CreateSnapshot();
            }
            else if (roll < 4)
            {
                // A live view makes the next writes copy table pages and publish the copies.
                view?.Dispose();
                view = log.Machine.CaptureView();
            }
            else if (roll < 7)
            {
                log.Apply(CacheCommand.Clear(n));
            }
            else if (roll < 200)
            {
                log.Apply(CacheCommand.Delete(keys[rng.Next(keys.Length)], n));
            }
            else
            {
                log.Apply(CacheCommand.Put(keys[rng.Next(keys.Length)], value, roll < 300 ? TimeSpan.FromMilliseconds(5) : null, n));
            }
        }

        view?.Dispose();
        stop.Cancel();
        foreach (var reader in readers)
        {
            reader.Join();
        }

        Assert.Equal(0, torn);
        Assert.True(Interlocked.Read(ref hits) > 0);
        Assert.True(log.Machine.Count <= 50);
    }
}
