namespace RaftCache.StateMachine;

/// <summary>Bytes are not a command of a known format version. For a committed entry this is fatal to the replica.</summary>
public sealed class CommandDecodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CommandDecodeException(CommandDecodeError reason, string message)
        : base(message) => Reason = reason;

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public CommandDecodeException()
        : base("The command cannot be decoded.") { }

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public CommandDecodeException(string message)
        : base(message) { }

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public CommandDecodeException(string message, Exception innerException)
        : base(message, innerException) { }

    /// <summary>The machine-readable reason.</summary>
    public CommandDecodeError Reason { get; }
}
