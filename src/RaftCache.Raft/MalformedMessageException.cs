namespace RaftCache.Raft;

/// <summary>
/// A message given to <see cref="RawNode.Step"/> that no correct peer sends: a required field is missing or out of
/// range, or fields contradict each other (an InstallSnapshot without a snapshot, entries that do not follow the
/// append's index, no term where one is required, a local message type, ...). The message says which.
/// </summary>
/// <remarks>
/// The node checked the message before acting on it and changed nothing: it keeps working, and the driver should
/// drop the message and log it, since it points at a bug or corruption in the sender or the transport. Unlike
/// <see cref="RaftInvariantException"/>, it says nothing about this node's own state.
/// </remarks>
public sealed class MalformedMessageException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public MalformedMessageException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public MalformedMessageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MalformedMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for the parameter that held the malformed message.</summary>
    public MalformedMessageException(string message, string paramName)
        : base(message, paramName)
    {
    }
}
