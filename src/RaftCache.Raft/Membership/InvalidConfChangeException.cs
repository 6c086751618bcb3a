namespace RaftCache.Raft.Membership;

/// <summary>A membership change that is not valid in the configuration it is applied to.</summary>
public sealed class InvalidConfChangeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidConfChangeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InvalidConfChangeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public InvalidConfChangeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
