using System.Text;

namespace RaftCache.StateMachine.Tests;

/// <summary>Drives a state machine the way the replica will: builds commands, encodes them, applies them at the next index.</summary>
internal sealed class TestLog
{
    public TestLog(CacheStateMachineOptions? options = null) => Machine = new CacheStateMachine(options);

    public CacheStateMachine Machine { get; }

    public long NextIndex => Machine.AppliedIndex + 1;

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public ApplyResult Apply(CacheCommand command) => Machine.Apply(NextIndex, CommandCodec.Encode(command));

    public ApplyResult Put(string key, string value, long ts, TimeSpan? ttl = null) => Apply(CacheCommand.Put(B(key), B(value), ttl, ts));

    public ApplyResult Delete(string key, long ts) => Apply(CacheCommand.Delete(B(key), ts));

    public ApplyResult Tick(long ts) => Apply(CacheCommand.Tick(ts));

    public long Register(long ts)
    {
        var result = Apply(CacheCommand.RegisterSession(ts));
        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        return result.SessionId;
    }

    /// <summary>The entries by key, as comparable values.</summary>
    public static List<(string Key, string Value, long DeadlineUnixMs, long WriteIndex)> Contents(CacheStateMachine machine) =>
        machine.GetEntriesSorted().Select(e => (Convert.ToHexString(e.Key), Convert.ToHexString(e.Value), e.DeadlineUnixMs, e.WriteIndex)).ToList();

    public string? Get(string key, long now) =>
        Machine.TryGet(B(key), now, out var value) ? Encoding.UTF8.GetString(value.Span) : null;

    /// <summary>The view's snapshot, produced in chunks of random sizes from 1 to <paramref name="maxChunk"/> bytes.</summary>
    public static byte[] ProduceInChunks(StateMachineView view, Random random, int maxChunk)
    {
        var producer = view.CreateSnapshotProducer();
        using var output = new MemoryStream();
        var buffer = new byte[maxChunk];
        while (!producer.IsCompleted)
        {
            var size = random.Next(1, maxChunk + 1);
            var written = producer.WriteNextChunk(buffer.AsSpan(0, size));
            // Every chunk but the last fills its buffer: records are split where the buffer ends.
            Assert.True(written == size || producer.IsCompleted);
            output.Write(buffer, 0, written);
        }

        Assert.Equal(0, producer.WriteNextChunk(buffer));
        Assert.Equal(output.Length, producer.BytesWritten);
        return output.ToArray();
    }

    /// <summary>Restores <paramref name="snapshot"/> through a restorer fed pieces of random sizes from 1 to <paramref name="maxPiece"/> bytes.</summary>
    public static CacheStateMachine RestoreInPieces(ReadOnlySpan<byte> snapshot, Random random, int maxPiece, CacheStateMachineOptions? options = null)
    {
        var restorer = new SnapshotRestorer(options);
        while (!snapshot.IsEmpty)
        {
            var size = Math.Min(snapshot.Length, random.Next(1, maxPiece + 1));
            restorer.Append(snapshot[..size]);
            snapshot = snapshot[size..];
        }

        return restorer.Complete();
    }
}
