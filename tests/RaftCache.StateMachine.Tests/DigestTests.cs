namespace RaftCache.StateMachine.Tests;

public class DigestTests
{
    /// <summary>A fixed log with one knob per field, so that two runs differ in exactly one field.</summary>
    private static CacheStateMachine Run(byte valueByte = 1, int ttlMs = 50_000, long sequence = 2, long lowest = 1, long finalTick = 9_000, bool extraNoOp = false, string key = "key")
    {
        var log = new TestLog();
        var s = log.Register(ts: 1_000);
        log.Put("other", "x", ts: 1_001);
        log.Apply(CacheCommand.Put(TestLog.B(key), new byte[] { 7, valueByte, 9 }, TimeSpan.FromMilliseconds(ttlMs), 1_002));
        log.Apply(CacheCommand.Delete(TestLog.B("none"), 1_003).WithSession(s, sequence, lowest));
        log.Tick(finalTick);
        if (extraNoOp)
        {
            log.Machine.ApplyNoOp(log.NextIndex);
        }

        return log.Machine;
    }

    [Fact]
    public void Equal_logs_give_equal_digests()
    {
        Assert.Equal(Run().ComputeDigest(), Run().ComputeDigest());
    }

    public static TheoryData<string> Changes => new() { "value byte", "deadline", "session sequence", "session watermark", "log time", "applied index", "key" };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Changing_any_single_field_changes_the_digest(string change)
    {
        var changed = change switch
        {
            "value byte" => Run(valueByte: 2),
            "deadline" => Run(ttlMs: 50_001),
            "session sequence" => Run(sequence: 3),
            "session watermark" => Run(lowest: 2),
            "log time" => Run(finalTick: 9_001),
            "applied index" => Run(extraNoOp: true),
            "key" => Run(key: "kez"),
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };
        Assert.NotEqual(Run().ComputeDigest(), changed.ComputeDigest());
    }

    [Fact]
    public void The_digest_does_not_depend_on_hash_order_of_many_keys()
    {
        // Same log applied twice, one machine restored from the other's snapshot: the dictionaries are built
        // differently (presized versus grown) but the state and so the digest are equal.
        var log = new TestLog();
        for (var i = 0; i < 5_000; i++)
        {
            log.Put("k" + (i * 7919 % 10_007), "v" + i, ts: i);
        }

        var copy = new CacheStateMachine();
        copy.Restore(log.Machine.CreateSnapshot());
        Assert.Equal(log.Machine.ComputeDigest(), copy.ComputeDigest());
    }
}
