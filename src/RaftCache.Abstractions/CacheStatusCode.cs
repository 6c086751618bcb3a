namespace RaftCache;

/// <summary>The outcome of a cache request as it travels between silos and to clients.</summary>
// Generated, so that Orleans encodes it without boxing (measured: boxed enums were a twelfth of a silo's allocations).
[GenerateSerializer, Alias("RaftCache.CacheStatusCode")]
public enum CacheStatusCode : byte
{
    /// <summary>Done.</summary>
    Ok = 0,

    /// <summary>The request is malformed (empty key, oversized value, bad TTL); nothing was proposed.</summary>
    InvalidArgument = 1,

    /// <summary>No quorum could be reached before the deadline; nothing was proposed.</summary>
    Unavailable = 2,

    /// <summary>The command was proposed but its fate is unknown: it may or may not be applied.</summary>
    OutcomeUnknown = 3,

    /// <summary>Too many requests are pending; nothing was proposed. Retry later.</summary>
    Overloaded = 4,

    /// <summary>The client session is unknown or expired; the command was not applied.</summary>
    SessionExpired = 5,

    /// <summary>The replica asked is not the leader; <see cref="CacheReply.LeaderHint"/> may name it. Retried by the façade.</summary>
    NotLeader = 6,

    /// <summary>The command was not applied (dropped before it was appended, or replaced); safe to retry. Retried by the façade.</summary>
    NotApplied = 7,

    /// <summary>A conditional write's condition did not hold; nothing changed. <see cref="CacheReply.Version"/> is the key's version.</summary>
    ConditionFailed = 8,

    /// <summary>An increment found a value that is not a decimal 64-bit integer; nothing changed.</summary>
    NotAnInteger = 9,

    /// <summary>An increment would overflow a 64-bit integer; nothing changed.</summary>
    Overflow = 10,
}
