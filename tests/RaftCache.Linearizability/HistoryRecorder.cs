namespace RaftCache.Linearizability;

/// <summary>
/// Records the operations of many concurrent clients into a <see cref="History"/>. Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// The recorder reads the clock itself, so every invocation and completion time comes from one monotonic clock
/// (<see cref="TimeProvider.GetTimestamp"/>). Call <see cref="Invoke"/> just before issuing the operation and
/// <see cref="Complete"/> just after its outcome is known: the recorded window must contain the instant the operation
/// took effect, so it may be wider than the real one but never narrower.
/// </para>
/// <para>Operations never completed (for example because the test was aborted) are recorded as Unknown.</para>
/// </remarks>
/// <example>
/// <code>
/// var op = recorder.Invoke(client, OperationKind.Get, key);
/// try { var value = await cache.GetAsync(key); recorder.Complete(op, OperationOutcome.Ok, OperationResult.Read(value)); }
/// catch (TimeoutException) { recorder.Complete(op, OperationOutcome.Unknown); }
/// </code>
/// </example>
public sealed class HistoryRecorder
{
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private readonly List<PendingOperation> _operations = [];

    /// <summary>Creates a recorder that reads <see cref="TimeProvider.System"/> (a <c>Stopwatch</c> timestamp).</summary>
    public HistoryRecorder()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates a recorder that reads <paramref name="timeProvider"/>'s monotonic timestamp.</summary>
    public HistoryRecorder(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>The number of operations invoked so far.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _operations.Count;
            }
        }
    }

    /// <summary>Records that <paramref name="clientId"/> is issuing an operation now.</summary>
    /// <param name="clientId">The logical client.</param>
    /// <param name="kind">What the operation does.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">The value written by a Put or CompareAndSet (copied); <see langword="null"/> for other kinds.</param>
    /// <param name="expectedValue">
    /// For a CompareAndSet, the value the key must hold for the write to happen (copied), or <see langword="null"/> if
    /// it must be absent; <see langword="null"/> for other kinds. A client that compares versions passes the value it
    /// read together with the version (values are unique per write, so a version stands for one value).
    /// </param>
    /// <returns>The handle to pass to <see cref="Complete"/>.</returns>
    public PendingOperation Invoke(int clientId, OperationKind kind, string key, byte[]? value = null, byte[]? expectedValue = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown operation kind.");
        }

        if ((kind is OperationKind.Put or OperationKind.CompareAndSet) != (value is not null))
        {
            throw new ArgumentException("A Put or CompareAndSet needs a value and only those have one.", nameof(value));
        }

        if (expectedValue is not null && kind != OperationKind.CompareAndSet)
        {
            throw new ArgumentException("Only a CompareAndSet has an expected value.", nameof(expectedValue));
        }

        var copy = value?.ToArray();
        var expectedCopy = expectedValue?.ToArray();
        lock (_lock)
        {
            // Reading the clock under the lock makes ids increase with invocation time, which keeps files readable.
            var op = new PendingOperation(this, _operations.Count, clientId, kind, key, copy, expectedCopy, _timeProvider.GetTimestamp());
            _operations.Add(op);
            return op;
        }
    }

    /// <summary>Records that <paramref name="operation"/>'s outcome is known now.</summary>
    /// <param name="operation">The handle returned by <see cref="Invoke"/>.</param>
    /// <param name="outcome">
    /// <see cref="OperationOutcome.Ok"/>, <see cref="OperationOutcome.Failed"/> (only for errors that guarantee nothing
    /// was applied) or <see cref="OperationOutcome.Unknown"/>.
    /// </param>
    /// <param name="result">
    /// For an Ok Get, <see cref="OperationResult.Read"/> or <see cref="OperationResult.Absent"/>; for an Ok Delete,
    /// optionally <see cref="OperationResult.Deleted"/>; for an Ok CompareAndSet, <see cref="OperationResult.CompareAndSet"/>;
    /// for an Ok Increment, <see cref="OperationResult.Incremented"/>; otherwise <see cref="OperationResult.None"/>.
    /// </param>
    /// <exception cref="ArgumentException">The result does not fit the operation, or it belongs to another recorder.</exception>
    /// <exception cref="InvalidOperationException">The operation was already completed.</exception>
    public void Complete(PendingOperation operation, OperationOutcome outcome, OperationResult result = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (!ReferenceEquals(operation.Owner, this))
        {
            throw new ArgumentException("The operation was invoked on another recorder.", nameof(operation));
        }

        if (!Enum.IsDefined(outcome))
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Unknown outcome.");
        }

        var expected = (outcome, operation.Kind) switch
        {
            (OperationOutcome.Ok, OperationKind.Get) => result.Kind == OperationResultKind.Read,
            (OperationOutcome.Ok, OperationKind.Delete) => result.Kind is OperationResultKind.None or OperationResultKind.Delete,
            (OperationOutcome.Ok, OperationKind.CompareAndSet) => result.Kind == OperationResultKind.CompareAndSet,
            (OperationOutcome.Ok, OperationKind.Increment) => result.Kind == OperationResultKind.Increment,
            _ => result.Kind == OperationResultKind.None,
        };
        if (!expected)
        {
            throw new ArgumentException(
                $"A {outcome} {operation.Kind} cannot have a result of kind {result.Kind}.", nameof(result));
        }

        lock (_lock)
        {
            if (operation.IsCompleted)
            {
                throw new InvalidOperationException($"Operation {operation.Id} was already completed.");
            }

            operation.SetCompleted(_timeProvider.GetTimestamp(), outcome, result);
        }
    }

    /// <summary>A snapshot of the operations so far; those not yet completed are Unknown.</summary>
    public History ToHistory()
    {
        lock (_lock)
        {
            var operations = new Operation[_operations.Count];
            for (var i = 0; i < operations.Length; i++)
            {
                operations[i] = _operations[i].ToOperation();
            }

            return new History(operations);
        }
    }
}
