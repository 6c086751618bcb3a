namespace RaftCache;

/// <summary>The operations a <see cref="CacheRequest"/> asks for.</summary>
// Generated, so that Orleans encodes it without boxing (measured: boxed enums were a twelfth of a silo's allocations).
[GenerateSerializer, Alias("RaftCache.CacheOperation")]
public enum CacheOperation : byte
{
    /// <summary>Read a key at the request's <see cref="CacheRequest.Consistency"/>.</summary>
    Get = 0,

    /// <summary>Store a value under a key, optionally with a time to live.</summary>
    Put = 1,

    /// <summary>Remove a key.</summary>
    Delete = 2,

    /// <summary>Remove every key.</summary>
    Clear = 3,

    /// <summary>Register a client session through the log; the reply's <see cref="CacheReply.SessionId"/> carries its id.</summary>
    RegisterSession = 4,

    /// <summary>Add <see cref="CacheRequest.Delta"/> to the key's value read as a decimal 64-bit integer (absent reads as 0).</summary>
    Increment = 5,

    /// <summary>Restart the key's sliding expiration window.</summary>
    Refresh = 6,
}

/// <summary>
/// One cache operation as it travels to the cluster, alone or in a batch. A write may carry a client session: the
/// replicas apply a given (<see cref="SessionId"/>, <see cref="Sequence"/>) at most once and answer a retry with the
/// original result (Raft thesis §6.3).
/// </summary>
// No reference tracking: a request is never shared within a message, and tracking every one of a batch's requests
// cost dictionary inserts and growth (measured: an eighth of the silo's allocations under batched puts).
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("RaftCache.CacheRequest")]
public sealed record CacheRequest
{
    /// <summary>Which operation.</summary>
    [Id(0)] public CacheOperation Operation { get; init; }

    /// <summary>The key (Get, Put, Delete).</summary>
    [Id(1)] public byte[]? Key { get; init; }

    /// <summary>The value (Put).</summary>
    [Id(2)] public byte[]? Value { get; init; }

    /// <summary>Time to live (Put); null for no expiry.</summary>
    [Id(3)] public TimeSpan? Ttl { get; init; }

    /// <summary>How fresh a read must be (Get).</summary>
    [Id(4)] public ReadConsistency Consistency { get; init; }

    /// <summary>The client session of a write, or 0 for none (then a retry may apply twice).</summary>
    [Id(5)] public long SessionId { get; init; }

    /// <summary>The write's sequence number in its session, from 1.</summary>
    [Id(6)] public long Sequence { get; init; }

    /// <summary>The lowest sequence number whose answer the client has not yet received; results below it are forgotten.</summary>
    [Id(7)] public long LowestUnansweredSequence { get; init; }

    /// <summary>
    /// The Raft group the operation is for (<see cref="ClusterLayout.GroupOf"/> of the key; for Clear and
    /// RegisterSession, the group to clear or to register with). The cluster checks it against the key.
    /// </summary>
    [Id(8)] public int Group { get; init; }

    /// <summary>
    /// The condition of a Put: <see langword="null"/> for none; 0 to store only if the key is absent; otherwise only if
    /// the key's version (<see cref="CacheReply.Version"/>) equals it.
    /// </summary>
    [Id(9)] public long? ExpectedVersion { get; init; }

    /// <summary>Sliding expiration of a Put: the entry expires once this long passes without a read that refreshes it or a Refresh.</summary>
    [Id(10)] public TimeSpan? SlidingExpiration { get; init; }

    /// <summary>Absolute expiry of a Put in Unix milliseconds, combined with <see cref="Ttl"/> by taking the earlier.</summary>
    [Id(11)] public long? AbsoluteExpirationUnixMs { get; init; }

    /// <summary>The amount an Increment adds (negative to subtract).</summary>
    [Id(12)] public long Delta { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the span that sent the operation (the client's span, then the façade's), or null
    /// while nothing traces RaftCache. Carried by each operation rather than by the call, because one batch call
    /// carries operations of many traces.
    /// </summary>
    [Id(13)] public string? TraceParent { get; init; }

    /// <summary>Whether the operation goes through the replicated log.</summary>
    public bool IsWrite => Operation != CacheOperation.Get;

    /// <summary>The bytes the request carries (key and value), for sizing batches.</summary>
    public int PayloadBytes => (Key?.Length ?? 0) + (Value?.Length ?? 0);
}
