using System.Text;

namespace RaftCache.Client;

/// <summary>
/// The default <see cref="IRaftCacheClient"/>: calls the façade grain through an <see cref="IGrainFactory"/> (a
/// cluster client, or a grain's own factory) and keeps one client session for exactly-once writes.
/// </summary>
/// <remarks>
/// Session protocol (Raft thesis §6.3): every write gets the next sequence number and carries the lowest sequence
/// still awaiting an answer, so the replicas can forget older results. A session that expired is replaced and the
/// write retried once: an expired session's commands are never applied, so the retry cannot apply twice.
/// </remarks>
public sealed class RaftCacheClient : IRaftCacheClient, IDisposable
{
    /// <summary>The default for <see cref="CallTimeout"/>: the façade's default request deadline (5 s) with room to answer.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(10);

    private readonly IGrainFactory _grains;
    private readonly SemaphoreSlim _sessionLock = new(1, 1);
    private readonly SortedSet<long> _inFlight = [];
    private long _sessionId;
    private long _nextSequence;

    /// <summary>Creates a client over <paramref name="grains"/>.</summary>
    /// <param name="grains">A cluster client, or a grain's own factory.</param>
    /// <param name="callTimeout">The deadline of each call to the cluster; <see cref="DefaultCallTimeout"/> if null.</param>
    public RaftCacheClient(IGrainFactory grains, TimeSpan? callTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        if (callTimeout is { } timeout && timeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(callTimeout), timeout, "The call timeout must be positive.");
        _grains = grains;
        CallTimeout = callTimeout ?? DefaultCallTimeout;
    }

    /// <summary>
    /// How long one call to the cluster may take before this client gives up on it: a write becomes
    /// <see cref="CacheOutcomeUnknownException"/>, a read <see cref="CacheUnavailableException"/>. It bounds a call
    /// stranded on a silo that died (Orleans would otherwise wait its response timeout, 30 s by default), and it lets
    /// the session stop counting the abandoned write as awaiting an answer.
    /// </summary>
    public TimeSpan CallTimeout { get; }

    /// <inheritdoc/>
    public void Dispose() => _sessionLock.Dispose();

    private IRaftCacheGrain Facade => _grains.GetGrain<IRaftCacheGrain>(0);

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(byte[] key, ReadConsistency consistency = ReadConsistency.Linearizable)
    {
        RequireKey(key);
        if (!Enum.IsDefined(consistency)) throw new CacheArgumentException($"Unknown read consistency {consistency}.");
        var reply = await CallAsync(() => Facade.Get(key, consistency), mayHaveApplied: false).ConfigureAwait(false);
        return reply.Status == CacheStatusCode.Ok ? reply.Value : throw RaftCacheException.From(reply);
    }

    /// <inheritdoc/>
    public async Task<string?> GetAsync(string key, ReadConsistency consistency = ReadConsistency.Linearizable)
    {
        var value = await GetAsync(Utf8(key, nameof(key)), consistency).ConfigureAwait(false);
        return value is null ? null : Encoding.UTF8.GetString(value);
    }

    /// <inheritdoc/>
    public async Task PutAsync(byte[] key, byte[] value, TimeSpan? ttl = null)
    {
        RequireKey(key);
        if (value is null) throw new CacheArgumentException("The value is required; use an empty array for an empty value.");
        if (ttl is { } t && t <= TimeSpan.Zero) throw new CacheArgumentException($"The time to live must be positive (is {t}).");
        await WriteAsync(new CacheWrite { Kind = CacheWriteKind.Put, Key = key, Value = value, Ttl = ttl }).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task PutAsync(string key, string value, TimeSpan? ttl = null) =>
        PutAsync(Utf8(key, nameof(key)), Utf8(value, nameof(value)), ttl);

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(byte[] key)
    {
        RequireKey(key);
        var reply = await WriteAsync(new CacheWrite { Kind = CacheWriteKind.Delete, Key = key }).ConfigureAwait(false);
        return reply.KeyExisted;
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key) => DeleteAsync(Utf8(key, nameof(key)));

    /// <inheritdoc/>
    public Task ClearAsync() => WriteAsync(new CacheWrite { Kind = CacheWriteKind.Clear });

    /// <inheritdoc/>
    public Task<ClusterStatus> GetStatusAsync() => Facade.GetStatus();

    private async Task<CacheReply> WriteAsync(CacheWrite write)
    {
        for (var attempt = 0; ; attempt++)
        {
            var session = await GetSessionAsync().ConfigureAwait(false);
            long sequence, lowest;
            lock (_inFlight)
            {
                sequence = ++_nextSequence;
                _inFlight.Add(sequence);
                lowest = _inFlight.Min;
            }

            CacheReply reply;
            try
            {
                var command = write with { SessionId = session, Sequence = sequence, LowestUnansweredSequence = lowest };
                reply = await CallAsync(() => Facade.Write(command), mayHaveApplied: true).ConfigureAwait(false);
            }
            finally
            {
                lock (_inFlight)
                {
                    // After a session change the set holds the new session's numbers, which may repeat this one.
                    if (Interlocked.Read(ref _sessionId) == session) _inFlight.Remove(sequence);
                }
            }

            if (reply.Status == CacheStatusCode.Ok) return reply;
            if (reply.Status == CacheStatusCode.SessionExpired && attempt == 0)
            {
                Interlocked.CompareExchange(ref _sessionId, 0, session);
                continue;
            }

            throw RaftCacheException.From(reply);
        }
    }

    private async Task<long> GetSessionAsync()
    {
        var session = Interlocked.Read(ref _sessionId);
        if (session != 0) return session;
        await _sessionLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_sessionId != 0) return _sessionId;
            var reply = await CallAsync(Facade.RegisterSession, mayHaveApplied: false).ConfigureAwait(false);
            if (reply.Status != CacheStatusCode.Ok) throw RaftCacheException.From(reply);
            lock (_inFlight)
            {
                // Sequence numbers restart with each session.
                _nextSequence = 0;
                _inFlight.Clear();
            }

            Interlocked.Exchange(ref _sessionId, reply.SessionId);
            return reply.SessionId;
        }
        finally
        {
            _sessionLock.Release();
        }
    }

    /// <summary>
    /// Calls the façade, retrying a connection that failed (the gateway's silo died: Orleans routes the next call
    /// through another gateway). Retrying is safe: reads change nothing, and every write carries its session and
    /// sequence number, so a second delivery is answered from the first (Raft thesis §6.3). What still fails becomes
    /// the typed error that says what is known: a write may have been applied, a read changed nothing.
    /// </summary>
    private async Task<CacheReply> CallAsync(Func<Task<CacheReply>> call, bool mayHaveApplied)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                return await call().WaitAsync(CallTimeout).ConfigureAwait(false);
            }
            catch (OrleansException e)
            {
                last = e;
                await Task.Delay(TimeSpan.FromMilliseconds(100 * (attempt + 1))).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                // The call may have reached the cluster: give up on it rather than wait again.
                last = e;
                break;
            }
        }

        var reason = $"The cluster could not be reached ({last!.GetType().Name}: {last.Message}).";
        throw mayHaveApplied
            ? new CacheOutcomeUnknownException(reason + " The command may or may not have been applied.")
            : new CacheUnavailableException(reason);
    }

    private static void RequireKey(byte[] key)
    {
        if (key is null) throw new CacheArgumentException("The key is required.");
        if (key.Length == 0) throw new CacheArgumentException("The key must not be empty.");
    }

    private static byte[] Utf8(string text, string what) =>
        text is null ? throw new CacheArgumentException($"The {what} is required.") : Encoding.UTF8.GetBytes(text);
}
