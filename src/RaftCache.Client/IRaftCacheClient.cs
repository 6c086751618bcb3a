namespace RaftCache.Client;

/// <summary>
/// The replicated cache, as an application uses it. Writes are linearizable and applied exactly once (a client
/// session deduplicates retries); reads are linearizable unless a weaker <see cref="ReadConsistency"/> is asked for.
/// </summary>
/// <remarks>
/// Every method throws a <see cref="RaftCacheException"/> subtype on failure: <see cref="CacheArgumentException"/>
/// (a key or value the cache refuses, nothing proposed; a null argument is an <see cref="ArgumentNullException"/>), <see cref="CacheUnavailableException"/> (no quorum in time, nothing applied),
/// <see cref="CacheOutcomeUnknownException"/> (may or may not be applied), <see cref="CacheOverloadedException"/>,
/// <see cref="CacheSessionExpiredException"/>, <see cref="CacheValueException"/> (an increment of a value that is not an integer).
/// <para>Cancellation: every method takes a <see cref="CancellationToken"/>. Canceled before the command left this
/// client, it throws <see cref="OperationCanceledException"/> and nothing was applied. A read, status or limits call
/// canceled later throws <see cref="OperationCanceledException"/> too (it changes nothing). A write canceled after it
/// was sent throws <see cref="CacheOutcomeUnknownException"/> with the <see cref="OperationCanceledException"/> as its
/// inner exception: cancellation stops the waiting, not the command, which may still be applied (once).</para>
/// </remarks>
public interface IRaftCacheClient
{
    /// <summary>The value stored under <paramref name="key"/>, or null if there is none (or it expired).</summary>
    Task<byte[]?> GetAsync(byte[] key, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken cancellationToken = default);

    /// <summary>The UTF-8 string stored under the UTF-8 <paramref name="key"/>, or null.</summary>
    Task<string?> GetAsync(string key, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, expiring after <paramref name="ttl"/> if given.</summary>
    Task PutAsync(byte[] key, byte[] value, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>Stores a UTF-8 string under a UTF-8 key.</summary>
    Task PutAsync(string key, string value, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>The entry stored under <paramref name="key"/> with its version and remaining time to live, or null if there is none.</summary>
    Task<CacheEntry?> GetEntryAsync(byte[] key, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="value"/> with the expiration in <paramref name="options"/> (none if null).</summary>
    /// <returns>The entry's new version.</returns>
    Task<long> SetAsync(byte[] key, byte[] value, RaftCacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="value"/> only if <paramref name="key"/> holds nothing (put-if-absent), atomically.</summary>
    /// <returns>Whether the value was stored; false if the key already had a value, which is left unchanged.</returns>
    Task<bool> TryAddAsync(byte[] key, byte[] value, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="value"/> only if <paramref name="key"/> is at <paramref name="expectedVersion"/> (a
    /// <see cref="CacheEntry.Version"/>; 0 means the key must be absent), atomically.
    /// </summary>
    /// <exception cref="CacheArgumentException"><paramref name="expectedVersion"/> is negative.</exception>
    Task<CompareAndSetResult> CompareAndSetAsync(byte[] key, byte[] value, long expectedVersion, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The value under <paramref name="key"/>; if there is none, runs <paramref name="factory"/> here, in the caller,
    /// and stores its value unless another caller stored one first, whose value is then returned instead. Every caller
    /// gets the value that the cache holds; the factory may run in several callers at once, but only one value wins.
    /// </summary>
    Task<byte[]> GetOrAddAsync(byte[] key, Func<CancellationToken, ValueTask<byte[]>> factory, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds <paramref name="delta"/> to the key's value, read as a decimal 64-bit integer in UTF-8 (an absent key reads
    /// as 0 and is created with <paramref name="ttl"/>; an existing key keeps its expiry), atomically and exactly once.
    /// </summary>
    /// <returns>The value after the increment.</returns>
    /// <exception cref="CacheValueException">The value is not an integer, or the result would overflow; nothing changed.</exception>
    Task<long> IncrementAsync(byte[] key, long delta = 1, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>Restarts the sliding expiration window of <paramref name="key"/> (no effect on entries without one).</summary>
    /// <returns>Whether the key holds a value.</returns>
    Task<bool> RefreshAsync(byte[] key, CancellationToken cancellationToken = default);

    /// <summary>Removes <paramref name="key"/>; true if it held a live value.</summary>
    Task<bool> DeleteAsync(byte[] key, CancellationToken cancellationToken = default);

    /// <summary>Removes the UTF-8 <paramref name="key"/>; true if it held a live value.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes every key: each Raft group clears its own keys, all groups at once. Each group's clear is linearizable
    /// in that group, but the clears are not one atomic step: a concurrent reader may see one group cleared and
    /// another not yet, and a put that completes after this call returns is kept.
    /// </summary>
    Task ClearAsync(CancellationToken cancellationToken = default);

    /// <summary>Every replica's status: roles, leader, term, commit and applied index.</summary>
    Task<ClusterStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// An operator's command: re-forms each group that lost a majority of its voters from its surviving replicas, while
    /// the silos keep running (see "Quorum-loss recovery" in docs/design.md). The survivor with the most up-to-date log
    /// is kept; entries only the dead voters held are lost, and each report states what is known of that loss. Without
    /// <paramref name="confirm"/> nothing changes: the reports say what recovery would do.
    /// </summary>
    /// <param name="group">The group to recover, or null for every group.</param>
    /// <param name="confirm">True to recover; false for a dry run.</param>
    /// <param name="cancellationToken">Cancels waiting for the answer (a recovery under way still completes).</param>
    Task<IReadOnlyList<GroupRecovery>> RecoverQuorumAsync(int? group = null, bool confirm = false, CancellationToken cancellationToken = default);
}
