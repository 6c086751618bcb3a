namespace RaftCache.Linearizability;

/// <summary>How a recorded operation ended, from the client's point of view.</summary>
public enum OperationOutcome
{
    /// <summary>The operation took effect exactly once and its result (if any) is known.</summary>
    Ok,

    /// <summary>
    /// The operation failed with a typed error that guarantees it was not applied. Failed operations are dropped from
    /// the history before checking.
    /// </summary>
    Failed,

    /// <summary>
    /// The client does not know whether the operation was applied (timeout, lost connection, test aborted). Its
    /// completion time is treated as +infinity: it may take effect at any point after its invocation, or never.
    /// </summary>
    Unknown,
}
