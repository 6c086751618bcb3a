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
}
