namespace RaftCache.Cli;

/// <summary>The exit codes of <c>raftcache</c>; each typed cache error has its own, so scripts can tell them apart.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary><c>get</c>: the key has no value (absent or expired).</summary>
    public const int NotFound = 1;

    /// <summary>Invalid command line: unknown command or option, missing or malformed argument.</summary>
    public const int Usage = 2;

    /// <summary>No gateway of the cluster answered within the connection deadline.</summary>
    public const int Unreachable = 3;

    /// <summary>The cluster rejected the request as malformed (<c>CacheArgumentException</c>); nothing was proposed.</summary>
    public const int InvalidArgument = 4;

    /// <summary>No quorum answered in time (<c>CacheUnavailableException</c>); nothing was applied.</summary>
    public const int Unavailable = 5;

    /// <summary>The write may or may not have been applied (<c>CacheOutcomeUnknownException</c>).</summary>
    public const int OutcomeUnknown = 6;

    /// <summary>The cluster has too many requests pending (<c>CacheOverloadedException</c>); retry later.</summary>
    public const int Overloaded = 7;

    /// <summary>The client session expired (<c>CacheSessionExpiredException</c>); the command was not applied.</summary>
    public const int SessionExpired = 8;

    /// <summary>The cluster did not answer within <c>--timeout</c>, or the connection was lost; the outcome is unknown.</summary>
    public const int Timeout = 9;

    /// <summary>An unexpected error.</summary>
    public const int Failure = 10;

    /// <summary>
    /// <c>bench</c>: operations failed with errors of more than one kind (one kind exits with that kind's code); the
    /// report lists them by type.
    /// </summary>
    public const int BenchErrors = 11;

    /// <summary><c>incr</c>: the value is not an integer, or the result would overflow (<c>CacheValueException</c>); nothing changed.</summary>
    public const int ValueError = 12;

    /// <summary>
    /// <c>recover</c> without <c>--confirm</c>: some group lost its quorum and would be recovered; nothing was changed.
    /// Run again with <c>--confirm</c> to recover it.
    /// </summary>
    public const int RecoveryNeeded = 13;

    /// <summary>
    /// <c>recover</c>: recovery was refused for some group (not safe or not possible now, for example because a live silo
    /// did not answer), or began and failed; the report's message says why.
    /// </summary>
    public const int RecoveryRefused = 14;

    /// <summary>Interrupted by Ctrl+C.</summary>
    public const int Interrupted = 130;

    /// <summary>The text for <c>--help</c> and the documentation.</summary>
    public const string Description = """
        Exit codes: 0 ok; 1 get: key not found; 2 invalid arguments; 3 cluster unreachable; 4 invalid argument
        (rejected by the cluster or the client library); 5 unavailable (no quorum, not applied); 6 outcome unknown
        (may be applied); 7 overloaded; 8 session expired (not applied); 9 timed out or connection lost;
        10 unexpected error; 11 bench: errors of several kinds; 12 incr: the value is not an integer
        or would overflow (not changed); 13 recover (dry run): some group lost its quorum and needs
        recovery (nothing changed; run again with --confirm); 14 recover: refused or failed for some
        group; 130 interrupted. A bench run whose operations all failed the same way exits with that
        error's code.
        """;

    /// <summary>The exit code of a typed cache error.</summary>
    public static int For(RaftCacheException exception) => exception switch
    {
        CacheArgumentException => InvalidArgument,
        CacheUnavailableException => Unavailable,
        CacheOutcomeUnknownException => OutcomeUnknown,
        CacheOverloadedException => Overloaded,
        CacheSessionExpiredException => SessionExpired,
        CacheValueException => ValueError,
        _ => Failure,
    };

    /// <summary>
    /// The exit code of any error a cache call can end with, as the commands report it: a typed cache error's own code,
    /// <see cref="Timeout"/> for a client-side timeout or a failed connection (the outcome is unknown), otherwise
    /// <see cref="Failure"/>.
    /// </summary>
    public static int ForError(Exception exception) => exception switch
    {
        RaftCacheException e => For(e),
        TimeoutException or OrleansException => Timeout,
        _ => Failure,
    };
}
