namespace RaftCache.StateMachine;

/// <summary>A live entry as a reader sees it: value, version and expiry.</summary>
/// <param name="Value">The value; the underlying memory must not be modified.</param>
/// <param name="Version">The log index of the write that gave the entry its value (a refresh keeps it).</param>
/// <param name="DeadlineUnixMs">When the entry expires (log time), or <see langword="null"/> if never.</param>
/// <param name="SlidingMilliseconds">The sliding window, or <see langword="null"/> without sliding expiration.</param>
public readonly record struct CacheEntryInfo(ReadOnlyMemory<byte> Value, long Version, long? DeadlineUnixMs, long? SlidingMilliseconds);
