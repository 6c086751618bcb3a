namespace RaftCache.StateMachine;

/// <summary>Why bytes could not be decoded as a command; reason of <see cref="CommandDecodeException"/>.</summary>
public enum CommandDecodeError
{
    /// <summary>The payload is empty.</summary>
    Empty = 1,

    /// <summary>The format version is not one this build understands.</summary>
    UnknownVersion,

    /// <summary>The command kind is unknown.</summary>
    UnknownKind,

    /// <summary>The payload ends before the command does.</summary>
    Truncated,

    /// <summary>The flags byte has unknown bits, or bits that the command kind does not allow.</summary>
    InvalidFlags,

    /// <summary>A variable-length integer is longer than ten bytes or exceeds its range.</summary>
    MalformedInteger,

    /// <summary>Bytes follow the end of the command.</summary>
    TrailingBytes,
}
