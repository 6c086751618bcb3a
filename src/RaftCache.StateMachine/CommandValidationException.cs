namespace RaftCache.StateMachine;

/// <summary>A command breaks the cache limits; thrown before it is proposed, so it never reaches the log.</summary>
public sealed class CommandValidationException : Exception
{
    /// <summary>Creates the exception for a reason.</summary>
    public CommandValidationException(CommandValidationError reason)
        : base(Describe(reason)) => Reason = reason;

    /// <summary>Creates the exception with a custom message.</summary>
    public CommandValidationException(CommandValidationError reason, string message)
        : base(message) => Reason = reason;

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public CommandValidationException()
        : base("The command is invalid.") { }

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public CommandValidationException(string message)
        : base(message) { }

    /// <summary>Creates an exception without reason (for serializers); prefer the other constructors.</summary>
    public CommandValidationException(string message, Exception innerException)
        : base(message, innerException) { }

    /// <summary>The machine-readable reason.</summary>
    public CommandValidationError Reason { get; }

    internal static string Describe(CommandValidationError reason) => reason switch
    {
        CommandValidationError.UnknownKind => "The command kind is unknown.",
        CommandValidationError.TimestampOutOfRange => "The command timestamp is negative or after year 9999.",
        CommandValidationError.KeyEmpty => "The key is empty; a key is required.",
        CommandValidationError.KeyTooLarge => "The key is larger than MaxKeyBytes.",
        CommandValidationError.ValueTooLarge => "The value is larger than MaxValueBytes.",
        CommandValidationError.TtlNotPositive => "The TTL must be positive; omit it for an entry that never expires.",
        CommandValidationError.TtlTooLarge => "The TTL is longer than MaxTtl.",
        CommandValidationError.SessionNotAllowed => "Only Put, Delete and Clear may carry a client session.",
        CommandValidationError.InvalidSessionId => "The session id is negative.",
        CommandValidationError.InvalidSequence =>
            "The sequence number must be at least 1 and the lowest unanswered sequence between 1 and it.",
        CommandValidationError.TooManyInFlight =>
            "The client has more commands in flight than MaxInFlightPerSession allows.",
        _ => "The command is invalid.",
    };
}
