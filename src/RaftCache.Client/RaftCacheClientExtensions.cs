using System.Text;

namespace RaftCache.Client;

/// <summary>String forms of the <see cref="IRaftCacheClient"/> operations: keys and values as UTF-8.</summary>
public static class RaftCacheClientExtensions
{
    /// <summary><see cref="IRaftCacheClient.TryAddAsync"/> with a UTF-8 key and value.</summary>
    public static Task<bool> TryAddAsync(this IRaftCacheClient client, string key, string value, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.TryAddAsync(RaftCacheClient.Utf8(key, nameof(key)), RaftCacheClient.Utf8(value, nameof(value)), ttl, cancellationToken);
    }

    /// <summary><see cref="IRaftCacheClient.IncrementAsync"/> with a UTF-8 key.</summary>
    public static Task<long> IncrementAsync(this IRaftCacheClient client, string key, long delta = 1, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.IncrementAsync(RaftCacheClient.Utf8(key, nameof(key)), delta, ttl, cancellationToken);
    }

    /// <summary><see cref="IRaftCacheClient.GetOrAddAsync"/> with a UTF-8 key and value.</summary>
    public static async Task<string> GetOrAddAsync(this IRaftCacheClient client, string key, Func<CancellationToken, ValueTask<string>> factory,
        TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(factory);
        var value = await client.GetOrAddAsync(RaftCacheClient.Utf8(key, nameof(key)),
            async token => RaftCacheClient.Utf8(await factory(token).ConfigureAwait(false), "value"), ttl, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(value);
    }
}
