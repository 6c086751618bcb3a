namespace RaftCache.StateMachine;

/// <summary>A snapshot is corrupt, truncated or of an unknown version; the state machine kept its previous state.</summary>
public sealed class SnapshotFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SnapshotFormatException(SnapshotFormatError reason, string message)
        : base(message) => Reason = reason;

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public SnapshotFormatException()
        : base("The snapshot is invalid.") { }

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public SnapshotFormatException(string message)
        : base(message) { }

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public SnapshotFormatException(string message, Exception innerException)
        : base(message, innerException) { }

    /// <summary>The machine-readable reason.</summary>
    public SnapshotFormatError Reason { get; }
}
