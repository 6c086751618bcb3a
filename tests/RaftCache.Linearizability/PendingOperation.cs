namespace RaftCache.Linearizability;

/// <summary>
/// An operation handed out by <see cref="HistoryRecorder.Invoke"/>, to be passed back to
/// <see cref="HistoryRecorder.Complete"/> once the client sees its outcome.
/// </summary>
public sealed class PendingOperation
{
    internal PendingOperation(HistoryRecorder owner, long id, int clientId, OperationKind kind, string key, byte[]? value, byte[]? expectedValue, long invokedAt)
    {
        Owner = owner;
        Id = id;
        ClientId = clientId;
        Kind = kind;
        Key = key;
        Value = value;
        ExpectedValue = expectedValue;
        InvokedAt = invokedAt;
    }

    /// <summary>Identifies the operation within the recorder's history.</summary>
    public long Id { get; }

    /// <summary>The logical client that issued the operation.</summary>
    public int ClientId { get; }

    /// <summary>What the operation does.</summary>
    public OperationKind Kind { get; }

    /// <summary>The key operated on.</summary>
    public string Key { get; }

    /// <summary>Clock ticks when the operation was invoked.</summary>
    public long InvokedAt { get; }

    internal HistoryRecorder Owner { get; }

    internal byte[]? Value { get; }

    internal byte[]? ExpectedValue { get; }

    // Written once, under the recorder's lock.
    internal bool IsCompleted { get; private set; }

    internal long CompletedAt { get; private set; }

    internal OperationOutcome Outcome { get; private set; }

    internal OperationResult Result { get; private set; }

    internal void SetCompleted(long completedAt, OperationOutcome outcome, OperationResult result)
    {
        IsCompleted = true;
        CompletedAt = completedAt;
        Outcome = outcome;
        Result = result;
    }

    internal Operation ToOperation() => IsCompleted
        ? new Operation(Id, ClientId, Kind, Key, Value, InvokedAt, CompletedAt, Outcome, Result.Value, Result.Existed, ExpectedValue, Result.Succeeded, Result.Number)
        : new Operation(Id, ClientId, Kind, Key, Value, InvokedAt, completedAt: null, OperationOutcome.Unknown, expectedValue: ExpectedValue);
}
