namespace RaftCache;

/// <summary>A cache request that did not succeed; the subtype says what is known about its effect.</summary>
public abstract class RaftCacheException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected RaftCacheException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the exception that caused it.</summary>
    protected RaftCacheException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The status that caused it.</summary>
    public abstract CacheStatusCode Status { get; }

    /// <summary>The exception for a failed <paramref name="reply"/>.</summary>
    public static RaftCacheException From(CacheReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var message = reply.Message ?? reply.Status.ToString();
        return reply.Status switch
        {
            CacheStatusCode.InvalidArgument => new CacheArgumentException(message),
            CacheStatusCode.Unavailable or CacheStatusCode.NotLeader or CacheStatusCode.NotApplied => new CacheUnavailableException(message),
            CacheStatusCode.Overloaded => new CacheOverloadedException(message),
            CacheStatusCode.SessionExpired => new CacheSessionExpiredException(message),
            CacheStatusCode.NotAnInteger or CacheStatusCode.Overflow => new CacheValueException(reply.Status, message),
            _ => new CacheOutcomeUnknownException(message),
        };
    }
}

/// <summary>The request was malformed; nothing was proposed.</summary>
public sealed class CacheArgumentException(string message) : RaftCacheException(message)
{
    /// <inheritdoc/>
    public override CacheStatusCode Status => CacheStatusCode.InvalidArgument;
}

/// <summary>No quorum was reachable before the deadline; the command was not applied.</summary>
public sealed class CacheUnavailableException(string message) : RaftCacheException(message)
{
    /// <inheritdoc/>
    public override CacheStatusCode Status => CacheStatusCode.Unavailable;
}

/// <summary>The command may or may not have been applied (for example, the leader failed after appending it).</summary>
public sealed class CacheOutcomeUnknownException : RaftCacheException
{
    /// <summary>Creates the exception.</summary>
    public CacheOutcomeUnknownException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause (for a write canceled after it was sent, the cancellation).</summary>
    public CacheOutcomeUnknownException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <inheritdoc/>
    public override CacheStatusCode Status => CacheStatusCode.OutcomeUnknown;
}

/// <summary>The cluster has too many requests pending; the command was not proposed.</summary>
public sealed class CacheOverloadedException(string message) : RaftCacheException(message)
{
    /// <inheritdoc/>
    public override CacheStatusCode Status => CacheStatusCode.Overloaded;
}

/// <summary>The client session is unknown or expired; the command was not applied.</summary>
public sealed class CacheSessionExpiredException(string message) : RaftCacheException(message)
{
    /// <inheritdoc/>
    public override CacheStatusCode Status => CacheStatusCode.SessionExpired;
}

/// <summary>
/// An increment could not be applied to the stored value: it is not a decimal 64-bit integer
/// (<see cref="CacheStatusCode.NotAnInteger"/>) or the result would overflow (<see cref="CacheStatusCode.Overflow"/>).
/// The decision was taken in the log, so it is final and nothing changed.
/// </summary>
public sealed class CacheValueException(CacheStatusCode status, string message) : RaftCacheException(message)
{
    /// <inheritdoc/>
    public override CacheStatusCode Status { get; } = status;
}
