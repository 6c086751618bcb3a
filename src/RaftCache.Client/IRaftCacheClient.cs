namespace RaftCache.Client;

/// <summary>
/// The replicated cache, as an application uses it. Writes are linearizable and applied exactly once (a client
/// session deduplicates retries); reads are linearizable unless a weaker <see cref="ReadConsistency"/> is asked for.
/// </summary>
/// <remarks>
/// Every method throws a <see cref="RaftCacheException"/> subtype on failure: <see cref="CacheArgumentException"/>
/// (a key or value the cache refuses, nothing proposed; a null argument is an <see cref="ArgumentNullException"/>), <see cref="CacheUnavailableException"/> (no quorum in time, nothing applied),
/// <see cref="CacheOutcomeUnknownException"/> (may or may not be applied), <see cref="CacheOverloadedException"/>,
/// <see cref="CacheSessionExpiredException"/>.
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
}
