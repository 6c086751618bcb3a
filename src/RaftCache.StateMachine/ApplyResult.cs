namespace RaftCache.StateMachine;

/// <summary>The result of applying one committed entry, returned to the proposer. A small value type, cheap to keep per session.</summary>
public readonly record struct ApplyResult
{
    internal ApplyResult(ApplyOutcome outcome, CommandKind kind, bool keyExisted = false, bool stored = false,
        int count = 0, long sessionId = 0, CommandValidationError error = CommandValidationError.None, long version = 0, long number = 0)
    {
        Version = version;
        Number = number;
        Outcome = outcome;
        Kind = kind;
        KeyExisted = keyExisted;
        Stored = stored;
        Count = count;
        SessionId = sessionId;
        Error = error;
    }

    /// <summary>What happened.</summary>
    public ApplyOutcome Outcome { get; }

    /// <summary>The kind of the applied command (0 when <see cref="Outcome"/> is <see cref="ApplyOutcome.Ignored"/>).</summary>
    public CommandKind Kind { get; }

    /// <summary>Put: the key held an entry that was replaced or removed. Delete: an entry was removed.</summary>
    public bool KeyExisted { get; }

    /// <summary>Put: the value was stored; <see langword="false"/> when its deadline had already passed in log time.</summary>
    public bool Stored { get; }

    /// <summary>Put: entries evicted to respect the capacity bound. Clear: entries removed.</summary>
    public int Count { get; }

    /// <summary>RegisterSession: the new session's id (the log index of the RegisterSession entry).</summary>
    public long SessionId { get; }

    /// <summary>Rejected: the limit the committed command breaks.</summary>
    public CommandValidationError Error { get; }

    /// <summary>
    /// The key's version after the command: the log index of the write that gave the key its value. Put and Increment:
    /// their own index when stored. <see cref="ApplyOutcome.ConditionFailed"/>: the key's current version, 0 if absent.
    /// Refresh: the version of the refreshed entry.
    /// </summary>
    public long Version { get; }

    /// <summary>Increment: the value after the increment.</summary>
    public long Number { get; }

    /// <summary>Whether the command took effect (or had taken effect, for a retry).</summary>
    public bool IsApplied => Outcome == ApplyOutcome.Applied;

    internal static ApplyResult Ignored => new(ApplyOutcome.Ignored, 0);
}
