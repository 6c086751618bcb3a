namespace RaftCache.StateMachine;

/// <summary>What applying a committed entry did.</summary>
public enum ApplyOutcome
{
    /// <summary>The command took effect (a retried session command returns its original result, so it reads Applied too).</summary>
    Applied = 1,

    /// <summary>The entry's index was at or below the applied index; nothing happened and no result is available.</summary>
    Ignored,

    /// <summary>The command's client session is unknown or expired; the command was not applied.</summary>
    SessionExpired,

    /// <summary>
    /// The command's sequence number is below the lowest sequence its client has not seen answered, and its result was
    /// trimmed: the client claimed to have seen the answer already. Not applied.
    /// </summary>
    StaleSequence,

    /// <summary>The committed command breaks the limits (the proposer skipped validation); not applied. See <see cref="ApplyResult.Error"/>.</summary>
    Rejected,

    /// <summary>A conditional Put's condition did not hold (the key exists, or is at another version); nothing changed. See <see cref="ApplyResult.Version"/>.</summary>
    ConditionFailed,

    /// <summary>An Increment found a value that is not a decimal 64-bit integer; nothing changed.</summary>
    NotAnInteger,

    /// <summary>An Increment would overflow a 64-bit integer; nothing changed.</summary>
    Overflow,
}
