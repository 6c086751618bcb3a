namespace RaftCache.StateMachine;

/// <summary>Why a command breaks the limits; machine-readable reason of <see cref="CommandValidationException"/>.</summary>
public enum CommandValidationError
{
    /// <summary>The command is valid.</summary>
    None = 0,

    /// <summary>The command kind is not one of <see cref="CommandKind"/>.</summary>
    UnknownKind,

    /// <summary>The timestamp or absolute expiry is negative or after <see cref="CacheStateMachineOptions.MaxTimestampUnixMs"/>.</summary>
    TimestampOutOfRange,

    /// <summary>A command on a key has an empty key.</summary>
    KeyEmpty,

    /// <summary>The key is longer than <see cref="CacheStateMachineOptions.MaxKeyBytes"/>.</summary>
    KeyTooLarge,

    /// <summary>The value is longer than <see cref="CacheStateMachineOptions.MaxValueBytes"/>.</summary>
    ValueTooLarge,

    /// <summary>The TTL or sliding expiration is zero or negative (omit it for no expiry).</summary>
    TtlNotPositive,

    /// <summary>The TTL or sliding expiration is longer than <see cref="CacheStateMachineOptions.MaxTtl"/>.</summary>
    TtlTooLarge,

    /// <summary>Only writes (Put, Delete, Clear, Increment, Refresh) may carry a client session.</summary>
    SessionNotAllowed,

    /// <summary>The session id is negative.</summary>
    InvalidSessionId,

    /// <summary>The sequence number is below 1, or the lowest unacknowledged sequence is below 1 or above it.</summary>
    InvalidSequence,

    /// <summary>
    /// The sequence number is <see cref="CacheStateMachineOptions.MaxInFlightPerSession"/> or more ahead of the lowest
    /// sequence the client has not seen answered.
    /// </summary>
    TooManyInFlight,

    /// <summary>A conditional Put expects a negative version (0 means "absent"; versions are positive log indexes).</summary>
    InvalidVersion,
}
