using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;
using RaftCache.Client;

namespace RaftCache.Caching;

/// <summary>
/// <see cref="IDistributedCache"/> over <see cref="IRaftCacheClient"/>: every operation is one or two operations of the
/// replicated cache, with its consistency, exactly-once writes and typed errors.
/// </summary>
/// <remarks>
/// <para>Expiration follows <see cref="DistributedCacheEntryOptions"/> as Microsoft's caches do:
/// <see cref="DistributedCacheEntryOptions.AbsoluteExpirationRelativeToNow"/> wins over
/// <see cref="DistributedCacheEntryOptions.AbsoluteExpiration"/> when both are given; an absolute bound caps a sliding
/// window; no expiration means the entry stays until it is removed (or evicted by the cluster's capacity bound).</para>
/// <para>A <c>Get</c> of an entry with a sliding expiration restarts its window, as RedisCache and SqlServerCache do:
/// that is a second call, a replicated write (<see cref="IRaftCacheClient.RefreshAsync"/>).</para>
/// <para>Failures are the client's <see cref="RaftCacheException"/> subtypes; a null argument is an
/// <see cref="ArgumentNullException"/>. The synchronous methods block the calling thread on the asynchronous ones.</para>
/// <para>Not an <c>IBufferDistributedCache</c>: the client takes and returns whole arrays, so buffers would add a copy
/// on every read and save nothing on writes.</para>
/// </remarks>
public sealed class RaftCacheDistributedCache : IDistributedCache
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly IRaftCacheClient _client;
    private readonly ReadConsistency _consistency;
    private readonly string _prefix;

    /// <summary>Creates the cache over <paramref name="client"/>.</summary>
    public RaftCacheDistributedCache(IRaftCacheClient client, IOptions<RaftCacheDistributedCacheOptions> options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        if (!Enum.IsDefined(settings.ReadConsistency))
        {
            throw new ArgumentException($"Unknown read consistency {settings.ReadConsistency}.", nameof(options));
        }

        _client = client;
        _consistency = settings.ReadConsistency;
        _prefix = settings.InstanceName ?? "";
    }

    /// <inheritdoc/>
    /// <remarks>Blocks the calling thread on <see cref="GetAsync"/>.</remarks>
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc/>
    /// <remarks>Reads with the configured consistency; an entry with a sliding expiration is then refreshed.</remarks>
    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var raftKey = KeyOf(key);
        var entry = await _client.GetEntryAsync(raftKey, _consistency, token).ConfigureAwait(false);
        if (entry is null) return null;
        // A refresh of an entry that was removed or overwritten without a window since the read changes nothing.
        if (entry.SlidingExpiration is not null) await _client.RefreshAsync(raftKey, token).ConfigureAwait(false);
        return entry.Value;
    }

    /// <inheritdoc/>
    /// <remarks>Blocks the calling thread on <see cref="SetAsync"/>.</remarks>
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="DistributedCacheEntryOptions.AbsoluteExpiration"/> is not in the future.</exception>
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        var raftKey = KeyOf(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        return _client.SetAsync(raftKey, value, ToEntryOptions(options, DateTimeOffset.UtcNow), token);
    }

    /// <inheritdoc/>
    /// <remarks>Blocks the calling thread on <see cref="RefreshAsync"/>.</remarks>
    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc/>
    /// <remarks>A replicated write; no effect on a missing key or an entry without a sliding expiration.</remarks>
    public Task RefreshAsync(string key, CancellationToken token = default) => _client.RefreshAsync(KeyOf(key), token);

    /// <inheritdoc/>
    /// <remarks>Blocks the calling thread on <see cref="RemoveAsync"/>.</remarks>
    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc/>
    /// <remarks>Removing a missing key is not an error.</remarks>
    public Task RemoveAsync(string key, CancellationToken token = default) => _client.DeleteAsync(KeyOf(key), token);

    /// <summary>The expiration of <paramref name="options"/> as RaftCache stores it; null for none.</summary>
    internal static RaftCacheEntryOptions? ToEntryOptions(DistributedCacheEntryOptions options, DateTimeOffset now)
    {
        // Checked even when a relative expiration overrides it, as RedisCache does; the exception names the option, as
        // RedisCache's does, rather than this method's parameter.
        if (options.AbsoluteExpiration is { } absolute && absolute <= now)
        {
#pragma warning disable CA2208
            throw new ArgumentOutOfRangeException(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), absolute, "The absolute expiration value must be in the future.");
#pragma warning restore CA2208
        }

        if (options.AbsoluteExpiration is null && options.AbsoluteExpirationRelativeToNow is null && options.SlidingExpiration is null) return null;
        return new RaftCacheEntryOptions
        {
            // The cluster would keep the earlier of the two; Microsoft's caches take the relative one.
            AbsoluteExpiration = options.AbsoluteExpirationRelativeToNow is null ? options.AbsoluteExpiration : null,
            TimeToLive = options.AbsoluteExpirationRelativeToNow,
            SlidingExpiration = options.SlidingExpiration,
        };
    }

    private byte[] KeyOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            return StrictUtf8.GetBytes(_prefix + key);
        }
        catch (EncoderFallbackException e)
        {
            // As the client's string overloads do: a lone surrogate has no UTF-8 form, and replacing it would merge keys.
            throw new CacheArgumentException($"The instance name and key are not valid UTF-16: they have a lone surrogate at index {e.Index}, which has no UTF-8 encoding.");
        }
    }
}
