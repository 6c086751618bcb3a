namespace RaftCache.StateMachine;

/// <summary>
/// Counters of a state machine. Each field is read atomically, but the set is not one point in time when read
/// concurrently with apply. Totals (expired, evicted, duplicates, session misses) count since construction or the
/// last restore and are not part of the replicated state.
/// </summary>
public readonly record struct CacheStatistics
{
    /// <summary>Index of the last applied entry.</summary>
    public long AppliedIndex { get; init; }

    /// <summary>Log time in Unix milliseconds: the largest command timestamp applied so far.</summary>
    public long LogTimeUnixMs { get; init; }

    /// <summary>Entries held (including entries whose deadline passed on a reader's clock but not yet in log time).</summary>
    public int Count { get; init; }

    /// <summary>Bytes charged for the entries held: key and value lengths plus <see cref="CacheStateMachineOptions.EntryOverheadBytes"/> each.</summary>
    public long TotalBytes { get; init; }

    /// <summary>Registered, unexpired client sessions.</summary>
    public int SessionCount { get; init; }

    /// <summary>Entries removed because their deadline passed in log time.</summary>
    public long ExpiredTotal { get; init; }

    /// <summary>Entries evicted by the capacity bound.</summary>
    public long EvictedTotal { get; init; }

    /// <summary>Session commands answered from the session's saved results instead of being applied again.</summary>
    public long DuplicateTotal { get; init; }

    /// <summary>Session commands refused with <see cref="ApplyOutcome.SessionExpired"/>.</summary>
    public long SessionExpiredTotal { get; init; }

    /// <summary>Sessions removed because they were idle too long or the session table was full.</summary>
    public long SessionsExpiredTotal { get; init; }
}
