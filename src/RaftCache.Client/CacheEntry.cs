namespace RaftCache.Client;

/// <summary>A value read from the cache with its version and expiry (<see cref="IRaftCacheClient.GetEntryAsync"/>).</summary>
/// <param name="Value">The value.</param>
/// <param name="Version">
/// The log index of the write that gave the key this value: it grows with every write of the key, so it serves as the
/// expected version of <see cref="IRaftCacheClient.CompareAndSetAsync"/>. A refresh does not change it.
/// </param>
/// <param name="TimeToLive">How long the entry has left, on the clock of the replica that served the read; null if it never expires.</param>
/// <param name="SlidingExpiration">The entry's sliding expiration, if it has one.</param>
public sealed record CacheEntry(byte[] Value, long Version, TimeSpan? TimeToLive, TimeSpan? SlidingExpiration);

/// <summary>The result of <see cref="IRaftCacheClient.CompareAndSetAsync"/>.</summary>
/// <param name="Succeeded">Whether the value was stored.</param>
/// <param name="Version">On success, the new version; otherwise the key's current version (0 if absent).</param>
public readonly record struct CompareAndSetResult(bool Succeeded, long Version);

/// <summary>
/// How a stored entry expires (<see cref="IRaftCacheClient.SetAsync"/>): any combination of an absolute time, a time to
/// live, and a sliding window. The entry expires at the earliest absolute bound; with a sliding window, it also expires
/// once the window passes without a refresh, and a refresh never moves it past the absolute bound.
/// </summary>
/// <remarks>
/// Expiry is decided in log time (the leader's clock when a command is proposed), the same on every replica; a
/// refresh is a replicated command, so sliding expiration does not depend on which replica a client reads from.
/// </remarks>
public sealed record RaftCacheEntryOptions
{
    /// <summary>When the entry expires, at the latest; must be in the future.</summary>
    public DateTimeOffset? AbsoluteExpiration { get; init; }

    /// <summary>How long from the write the entry lives, at the latest; must be positive.</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>How long the entry lives without a refresh (<see cref="IRaftCacheClient.RefreshAsync"/>); must be positive.</summary>
    public TimeSpan? SlidingExpiration { get; init; }
}
