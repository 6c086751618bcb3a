namespace RaftCache;

/// <summary>The answer to a cache request.</summary>
// No reference tracking, as for CacheRequest: replies of a batch are never shared within a message.
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("RaftCache.CacheReply")]
public sealed record CacheReply
{
    /// <summary>The outcome.</summary>
    [Id(0)] public CacheStatusCode Status { get; init; }

    /// <summary>The value read, or null if the key is absent (reads only).</summary>
    [Id(1)] public byte[]? Value { get; init; }

    /// <summary>For a delete: whether the key existed. For a put: whether it replaced a live value.</summary>
    [Id(2)] public bool KeyExisted { get; init; }

    /// <summary>For a session registration: the new session id.</summary>
    [Id(3)] public long SessionId { get; init; }

    /// <summary>A human-readable reason when <see cref="Status"/> is not <see cref="CacheStatusCode.Ok"/>.</summary>
    [Id(4)] public string? Message { get; init; }

    /// <summary>With <see cref="CacheStatusCode.NotLeader"/>: the silo of the leader this replica knows, if any.</summary>
    [Id(5)] public string? LeaderHint { get; init; }

    /// <summary>The log index at which the command was applied, or the read index a read was served at.</summary>
    [Id(6)] public ulong Index { get; init; }

    /// <summary>
    /// The key's version: the log index of the write that gave it its current value (a read of a present key, a Put or
    /// Increment that stored, a Refresh), or, with <see cref="CacheStatusCode.ConditionFailed"/>, the version that
    /// failed the condition (0 when absent).
    /// </summary>
    [Id(7)] public long Version { get; init; }

    /// <summary>For an increment: the value after it.</summary>
    [Id(8)] public long Number { get; init; }

    /// <summary>For a read of a present key: its remaining time to live on the serving replica's clock; null if it never expires.</summary>
    [Id(9)] public TimeSpan? TimeToLive { get; init; }

    /// <summary>For a read of a present key: its sliding expiration, if it has one.</summary>
    [Id(10)] public TimeSpan? SlidingExpiration { get; init; }

    /// <summary>A successful reply.</summary>
    public static CacheReply Ok { get; } = new();

    /// <summary>A failed reply with <paramref name="status"/> and <paramref name="message"/>.</summary>
    public static CacheReply Fail(CacheStatusCode status, string message) => new() { Status = status, Message = message };
}
