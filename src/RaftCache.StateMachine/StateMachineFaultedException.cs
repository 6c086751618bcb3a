namespace RaftCache.StateMachine;

/// <summary>
/// The state machine met a committed entry it cannot decode and stopped applying. Thrown by the Apply of that entry
/// and by every later Apply or Restore: skipping the entry would make this replica diverge from the others.
/// </summary>
public sealed class StateMachineFaultedException : Exception
{
    /// <summary>Creates the exception for the entry at <paramref name="faultedIndex"/>.</summary>
    public StateMachineFaultedException(long faultedIndex, CommandDecodeException fault)
        : base($"The cache state machine stopped at log index {faultedIndex}: the committed entry cannot be decoded ({fault?.Message}). The replica must be replaced or restored by an operator.", fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        FaultedIndex = faultedIndex;
        Fault = fault;
    }

    /// <summary>Creates an exception without details (for serializers); prefer the other constructor.</summary>
    public StateMachineFaultedException()
        : base("The cache state machine is faulted.") => Fault = new CommandDecodeException();

    /// <summary>Creates an exception without details (for serializers); prefer the other constructor.</summary>
    public StateMachineFaultedException(string message)
        : base(message) => Fault = new CommandDecodeException();

    /// <summary>Creates an exception without details (for serializers); prefer the other constructor.</summary>
    public StateMachineFaultedException(string message, Exception innerException)
        : base(message, innerException) => Fault = innerException as CommandDecodeException ?? new CommandDecodeException();

    /// <summary>Log index of the entry that could not be decoded.</summary>
    public long FaultedIndex { get; }

    /// <summary>The decode error.</summary>
    public CommandDecodeException Fault { get; }
}
