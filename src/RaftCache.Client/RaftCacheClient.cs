using System.Diagnostics;
using System.Text;

namespace RaftCache.Client;

/// <summary>
/// The default <see cref="IRaftCacheClient"/>: calls the façade grain through an <see cref="IGrainFactory"/> (a
/// cluster client, or a grain's own factory) and keeps a client session per Raft group it writes to, for exactly-once
/// writes.
/// </summary>
/// <remarks>
/// <para>Session protocol (Raft thesis §6.3): every write gets the next sequence number and carries the lowest sequence
/// still awaiting an answer, so the replicas can forget older results. A session that expired is replaced and the
/// write retried once: an expired session's commands are never applied, so the retry cannot apply twice.</para>
/// <para>The replicas keep results only for a window of sequence numbers (<see cref="CacheLimits.MaxInFlightPerSession"/>);
/// writes that would overstep it wait for earlier ones to be answered (<see cref="SessionWindow"/>), so a client shared
/// by many callers never overloads its own session.</para>
/// <para>Each key belongs to one Raft group (<see cref="ClusterLayout.GroupOf"/>, from the layout the cluster reports
/// with its limits); every operation names its group, and a write carries the session of that group.</para>
/// <para>Before sending anything the client checks keys, values and times to live against the limits the cluster
/// reports (fetched once, on first use), so that a request the cluster would refuse never travels to it.</para>
/// </remarks>
public sealed class RaftCacheClient : IRaftCacheClient, IDisposable
{
    /// <summary>The default for <see cref="CallTimeout"/>: the façade's default request deadline (5 s) with room to answer.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(10);

    // Throws on a lone surrogate instead of writing U+FFFD, which would map two different strings to one key.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly RaftCacheClientOptions _options;
    private readonly SemaphoreSlim _setupLock = new(1, 1);
    private readonly CommandBatcher _batcher;
    // Spreads the calls over the cluster's gateways (an Orleans client sends all calls to one grain through one gateway).
    private readonly FacadeSelector _facades;
    private readonly IGrainFactory _grains;
    private CacheLimits? _limits;
    // One session per group the client writes to: a session is part of one group's replicated state (thesis §6.3).
    private SessionWindow?[] _windows = [];

    /// <summary>Creates a client over <paramref name="grains"/>.</summary>
    /// <param name="grains">A cluster client, or a grain's own factory.</param>
    /// <param name="callTimeout">The deadline of each operation; <see cref="DefaultCallTimeout"/> if null.</param>
    public RaftCacheClient(IGrainFactory grains, TimeSpan? callTimeout = null)
        : this(grains, new RaftCacheClientOptions { CallTimeout = callTimeout ?? DefaultCallTimeout })
    {
    }

    /// <summary>Creates a client over <paramref name="grains"/> with <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public RaftCacheClient(IGrainFactory grains, RaftCacheClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { Count: > 0 } errors) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        _options = options.Clone();
        _grains = grains;
        _facades = new FacadeSelector(grains, _options);
        _batcher = new CommandBatcher((facade, requests, timeout) => facade.Execute(requests).WaitAsync(timeout), _facades, _options);
    }

    /// <summary>
    /// How long one operation may take, from the call until its answer (see <see cref="RaftCacheClientOptions.CallTimeout"/>).
    /// </summary>
    public TimeSpan CallTimeout => _options.CallTimeout;

    /// <summary>Batch calls this client has sent, and the operations they carried (for <c>bench</c> and diagnostics).</summary>
    public (long Calls, long Commands) BatchStatistics => (_batcher.Calls, _batcher.Commands);

    /// <inheritdoc/>
    public void Dispose()
    {
        _batcher.Dispose();
        _facades.Dispose();
        _setupLock.Dispose();
    }

    /// <inheritdoc/>
    public async Task<byte[]?> GetAsync(byte[] key, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken cancellationToken = default) =>
        (await ReadAsync(key, consistency, cancellationToken).ConfigureAwait(false)).Value;

    /// <inheritdoc/>
    public async Task<string?> GetAsync(string key, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken cancellationToken = default)
    {
        var value = await GetAsync(Utf8(key, "key"), consistency, cancellationToken).ConfigureAwait(false);
        return value is null ? null : Encoding.UTF8.GetString(value);
    }

    /// <inheritdoc/>
    public async Task PutAsync(byte[] key, byte[] value, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var request = await BuildPutAsync(key, value, ttl, started, cancellationToken).ConfigureAwait(false);
        await WriteAsync(request, started, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task PutAsync(string key, string value, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        PutAsync(Utf8(key, "key"), Utf8(value, "value"), ttl, cancellationToken);

    /// <inheritdoc/>
    public async Task<CacheEntry?> GetEntryAsync(byte[] key, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken cancellationToken = default)
    {
        var reply = await ReadAsync(key, consistency, cancellationToken).ConfigureAwait(false);
        return reply.Value is { } value ? new CacheEntry(value, reply.Version, reply.TimeToLive, reply.SlidingExpiration) : null;
    }

    private async Task<CacheReply> ReadAsync(byte[] key, ReadConsistency consistency, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        RequireKey(key);
        if (!Enum.IsDefined(consistency)) throw new CacheArgumentException($"Unknown read consistency {consistency}.");
        var limits = await GetLimitsForKeyAsync(key, started, cancellationToken).ConfigureAwait(false);
        var reply = await SendAsync(new CacheRequest { Operation = CacheOperation.Get, Key = key, Consistency = consistency, Group = limits.Layout!.GroupOf(key) }, started, cancellationToken).ConfigureAwait(false);
        return reply.Status == CacheStatusCode.Ok ? reply : throw RaftCacheException.From(reply);
    }

    /// <inheritdoc/>
    public async Task<long> SetAsync(byte[] key, byte[] value, RaftCacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var request = await BuildPutAsync(key, value, options?.TimeToLive, started, cancellationToken).ConfigureAwait(false);
        if (options?.SlidingExpiration is { } sliding)
        {
            if (sliding <= TimeSpan.Zero) throw new CacheArgumentException($"The sliding expiration must be positive (is {sliding}).");
            if (sliding > _limits!.MaxTtl) throw new CacheArgumentException($"The sliding expiration {sliding} is longer than the cluster's limit of {_limits.MaxTtl}.");
            request = request with { SlidingExpiration = sliding };
        }

        if (options?.AbsoluteExpiration is { } absolute)
        {
            // Checked against this client's clock: the cluster would store an entry already past its expiry as absent.
            if (absolute <= DateTimeOffset.UtcNow) throw new CacheArgumentException($"The absolute expiration {absolute:O} is not in the future.");
            request = request with { AbsoluteExpirationUnixMs = absolute.ToUnixTimeMilliseconds() };
        }

        var reply = await WriteAsync(request, started, cancellationToken).ConfigureAwait(false);
        return reply.Version;
    }

    /// <inheritdoc/>
    public async Task<bool> TryAddAsync(byte[] key, byte[] value, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        (await CompareAndSetAsync(key, value, 0, ttl, cancellationToken).ConfigureAwait(false)).Succeeded;

    /// <inheritdoc/>
    public async Task<CompareAndSetResult> CompareAndSetAsync(byte[] key, byte[] value, long expectedVersion, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        if (expectedVersion < 0) throw new CacheArgumentException($"The expected version must be 0 (absent) or a version a read returned (is {expectedVersion}).");
        var request = await BuildPutAsync(key, value, ttl, started, cancellationToken).ConfigureAwait(false);
        var reply = await WriteAsync(request with { ExpectedVersion = expectedVersion }, started, cancellationToken).ConfigureAwait(false);
        return new CompareAndSetResult(reply.Status == CacheStatusCode.Ok, reply.Version);
    }

    /// <inheritdoc/>
    public async Task<byte[]> GetOrAddAsync(byte[] key, Func<CancellationToken, ValueTask<byte[]>> factory, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        RequireKey(key);
        ArgumentNullException.ThrowIfNull(factory);
        byte[]? produced = null;
        // A lost race is followed by a read of the winner's value; if that value is gone again by then (deleted, or
        // expired on the reader's clock), the produced value is offered again. Bounded, so a key that keeps vanishing
        // ends in an error rather than a loop.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await GetAsync(key, ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false) is { } existing) return existing;
            produced ??= await factory(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The value factory returned null; return an empty array for an empty value.");
            if (await TryAddAsync(key, produced, ttl, cancellationToken).ConfigureAwait(false)) return produced;
        }

        throw new CacheUnavailableException("The key was written and removed again by other clients on every attempt; no value could be returned.");
    }

    /// <inheritdoc/>
    public async Task<long> IncrementAsync(byte[] key, long delta = 1, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        RequireKey(key);
        RequirePositiveTtl(ttl);
        var limits = await GetLimitsForKeyAsync(key, started, cancellationToken).ConfigureAwait(false);
        CheckTtl(ttl, limits);
        var reply = await WriteAsync(new CacheRequest { Operation = CacheOperation.Increment, Key = key, Delta = delta, Ttl = ttl, Group = limits.Layout!.GroupOf(key) }, started, cancellationToken).ConfigureAwait(false);
        return reply.Number;
    }

    /// <inheritdoc/>
    public async Task<bool> RefreshAsync(byte[] key, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        RequireKey(key);
        var limits = await GetLimitsForKeyAsync(key, started, cancellationToken).ConfigureAwait(false);
        var reply = await WriteAsync(new CacheRequest { Operation = CacheOperation.Refresh, Key = key, Group = limits.Layout!.GroupOf(key) }, started, cancellationToken).ConfigureAwait(false);
        return reply.KeyExisted;
    }

    /// <summary>A Put request checked against the limits (nothing is sent).</summary>
    private async Task<CacheRequest> BuildPutAsync(byte[] key, byte[] value, TimeSpan? ttl, long started, CancellationToken cancellationToken)
    {
        RequireKey(key);
        ArgumentNullException.ThrowIfNull(value);
        RequirePositiveTtl(ttl);
        var limits = await GetLimitsForKeyAsync(key, started, cancellationToken).ConfigureAwait(false);
        if (value.Length > limits.MaxValueBytes)
            throw new CacheArgumentException($"The value has {value.Length} bytes; the cluster's limit is {limits.MaxValueBytes}. Nothing was sent.");
        CheckTtl(ttl, limits);
        return new CacheRequest { Operation = CacheOperation.Put, Key = key, Value = value, Ttl = ttl, Group = limits.Layout!.GroupOf(key) };
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(byte[] key, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        RequireKey(key);
        var limits = await GetLimitsForKeyAsync(key, started, cancellationToken).ConfigureAwait(false);
        var reply = await WriteAsync(new CacheRequest { Operation = CacheOperation.Delete, Key = key, Group = limits.Layout!.GroupOf(key) }, started, cancellationToken).ConfigureAwait(false);
        return reply.KeyExisted;
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => DeleteAsync(Utf8(key, "key"), cancellationToken);

    /// <inheritdoc/>
    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        // Every group clears its own keys: each clear is linearizable within its group, not atomic across groups.
        var started = Stopwatch.GetTimestamp();
        cancellationToken.ThrowIfCancellationRequested();
        var layout = (await GetLimitsAsync(started, cancellationToken).ConfigureAwait(false)).Layout!;
        await Task.WhenAll(Enumerable.Range(0, layout.Groups).Select(group =>
            WriteAsync(new CacheRequest { Operation = CacheOperation.Clear, Group = group }, started, cancellationToken))).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<ClusterStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        CallAsync(facade => facade.GetStatus(), Stopwatch.GetTimestamp(), cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<GroupRecovery>> RecoverQuorumAsync(int? group = null, bool confirm = false, CancellationToken cancellationToken = default)
    {
        if (group is < 0) throw new CacheArgumentException($"A group number is 0 or more (is {group}).");
        // A dry run changes nothing: like a read, it may go again through another gateway (one of a silo just lost, still
        // listed, may not answer).
        if (!confirm) return await CallAsync(facade => facade.RecoverQuorum(group, confirm: false), Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
        // A recovery is one call, never resent: it changes the cluster. It fences and re-forms groups through several
        // rounds of calls to the silos, so it gets more time than an operation.
        var timeout = CallTimeout > RecoveryTimeout ? CallTimeout : RecoveryTimeout;
        try
        {
            return await _grains.GetGrain<IRaftCacheGrain>(0).RecoverQuorum(group, confirm).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new CacheOutcomeUnknownException($"The cluster did not answer the recovery within {timeout.TotalSeconds:0} s; ask again (without confirming) to see each group's state.");
        }
        catch (OrleansException e)
        {
            throw new CacheUnavailableException($"The cluster could not be reached ({e.GetType().Name}: {e.Message}).");
        }
    }

    /// <summary>
    /// The least time <see cref="RecoverQuorumAsync"/> waits for the cluster's answer (longer if <see cref="CallTimeout"/>
    /// is): a recovery asks every live silo, fences the survivors and re-forms them, several rounds of calls.
    /// </summary>
    public static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs a write in its group's client session; observed as one operation (<see cref="ObserveAsync"/>).</summary>
    private Task<CacheReply> WriteAsync(CacheRequest write, long started, CancellationToken cancellationToken) =>
        ClientTelemetry.Enabled ? ObserveAsync(write, started, inSession: true, cancellationToken) : WriteInSessionAsync(write, started, cancellationToken);

    private async Task<CacheReply> WriteInSessionAsync(CacheRequest write, long started, CancellationToken cancellationToken)
    {
        var renewed = false;
        while (true)
        {
            var window = await GetSessionWindowAsync(write.Group, started, cancellationToken).ConfigureAwait(false);
            var sequence = await EnterWindowAsync(window, started, cancellationToken).ConfigureAwait(false);
            if (sequence == 0) continue; // The session was replaced while this write waited: enter the new one.

            CacheReply reply;
            try
            {
                var command = write with { SessionId = window.SessionId, Sequence = sequence, LowestUnansweredSequence = window.LowestUnanswered(sequence) };
                reply = await EnqueueAsync(command, started, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Answered, or abandoned at the deadline: either way it no longer holds the window back.
                window.Leave(sequence);
            }

            // A failed condition is an answer, not an error: the caller reads it from the reply.
            if (reply.Status is CacheStatusCode.Ok or CacheStatusCode.ConditionFailed) return reply;
            if (reply.Status == CacheStatusCode.SessionExpired && !renewed)
            {
                renewed = true;
                if (Interlocked.CompareExchange(ref _windows[write.Group], null, window) == window) window.Close();
                continue;
            }

            throw RaftCacheException.From(reply);
        }
    }

    private async Task<long> EnterWindowAsync(SessionWindow window, long started, CancellationToken cancellationToken)
    {
        var remaining = Remaining(started);
        if (remaining <= TimeSpan.Zero) throw DeadlinePassedBeforeSending();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(remaining);
        try
        {
            return await window.EnterAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw DeadlinePassedBeforeSending();
        }
    }

    private CacheOverloadedException DeadlinePassedBeforeSending() => new(
        $"The operation waited {CallTimeout.TotalMilliseconds:0} ms (the call timeout) in this client without being sent: " +
        "too many earlier operations are still unanswered. Nothing was sent.");

    private async Task<SessionWindow> GetSessionWindowAsync(int group, long started, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _windows[group]) is { } window) return window;
        var limits = await GetLimitsAsync(started, cancellationToken).ConfigureAwait(false);
        await EnterSetupAsync(started, cancellationToken).ConfigureAwait(false);
        try
        {
            if (_windows[group] is { } current) return current;
            // Registering twice only leaves an unused session, which expires; so an unknown outcome is harmless here.
            var reply = await EnqueueAsync(new CacheRequest { Operation = CacheOperation.RegisterSession, Group = group }, started, cancellationToken).ConfigureAwait(false);
            if (reply.Status != CacheStatusCode.Ok) throw RaftCacheException.From(reply);
            var created = new SessionWindow(reply.SessionId, limits.MaxInFlightPerSession, _options.MaxQueuedWrites);
            Volatile.Write(ref _windows[group], created);
            return created;
        }
        finally
        {
            _setupLock.Release();
        }
    }

    private ValueTask<CacheLimits> GetLimitsAsync(long started, CancellationToken cancellationToken) =>
        Volatile.Read(ref _limits) is { } limits ? ValueTask.FromResult(limits) : new ValueTask<CacheLimits>(FetchLimitsAsync(started, cancellationToken));

    private async Task<CacheLimits> FetchLimitsAsync(long started, CancellationToken cancellationToken)
    {
        await EnterSetupAsync(started, cancellationToken).ConfigureAwait(false);
        try
        {
            if (_limits is { } known) return known;
            var fetched = await CallAsync(facade => facade.GetLimits(), started, cancellationToken).ConfigureAwait(false);
            if (fetched.Layout is null)
                throw new CacheUnavailableException("The cluster has not formed its Raft groups yet (its silos are starting); nothing was sent. Try again shortly.");
            _windows = new SessionWindow?[fetched.Layout.Groups];
            Volatile.Write(ref _limits, fetched);
            return fetched;
        }
        finally
        {
            _setupLock.Release();
        }
    }

    /// <summary>Waits, within the operation's deadline, for another caller's session registration or limits fetch.</summary>
    private async Task EnterSetupAsync(long started, CancellationToken cancellationToken)
    {
        var remaining = Remaining(started);
        if (remaining <= TimeSpan.Zero || !await _setupLock.WaitAsync(remaining, cancellationToken).ConfigureAwait(false))
            throw new CacheUnavailableException($"The client could not reach the cluster to set up its session within the call timeout ({CallTimeout.TotalMilliseconds:0} ms); nothing was sent.");
    }

    /// <summary>Sends one operation outside any session (<see cref="EnqueueAsync"/>); observed as one operation (<see cref="ObserveAsync"/>).</summary>
    private Task<CacheReply> SendAsync(CacheRequest request, long started, CancellationToken cancellationToken) =>
        ClientTelemetry.Enabled ? ObserveAsync(request, started, inSession: false, cancellationToken) : EnqueueAsync(request, started, cancellationToken);

    /// <summary>
    /// Sends one operation in the next batch call; the reply comes back by its deadline, from the cluster or from the
    /// batcher saying what is known (<see cref="CommandBatcher"/>).
    /// </summary>
    private Task<CacheReply> EnqueueAsync(CacheRequest request, long started, CancellationToken cancellationToken) =>
        Remaining(started) <= TimeSpan.Zero
            ? Task.FromException<CacheReply>(DeadlinePassedBeforeSending())
            : _batcher.Enqueue(ClientTelemetry.Carrying(request), started + (long)(CallTimeout.TotalSeconds * Stopwatch.Frequency), cancellationToken);

    /// <summary>
    /// Runs a write (in its session) or another operation under its client span, and records it in the client's
    /// metrics: a failed reply or an exception is the operation's error (<see cref="ClientTelemetry"/>). Separate from
    /// <see cref="WriteAsync"/> and <see cref="SendAsync"/> so that an unobserved operation pays for no extra state machine.
    /// </summary>
    private async Task<CacheReply> ObserveAsync(CacheRequest request, long started, bool inSession, CancellationToken cancellationToken)
    {
        var activity = ClientTelemetry.Start(request, started);
        try
        {
            var reply = inSession
                ? await WriteInSessionAsync(request, started, cancellationToken).ConfigureAwait(false)
                : await EnqueueAsync(request, started, cancellationToken).ConfigureAwait(false);
            ClientTelemetry.Stop(activity, request, started, reply);
            return reply;
        }
        catch (Exception e)
        {
            ClientTelemetry.Stop(activity, request, started, e);
            throw;
        }
    }

    /// <summary>
    /// Calls a façade within what is left of the operation's deadline (<see cref="FacadeSelector.CallAsync"/>: another
    /// gateway is tried as well after each attempt timeout, or at once when a connection failed; the first answer
    /// wins). Only for calls that change nothing, which may be delivered twice: writes go through the batcher with their
    /// session. What still fails becomes <see cref="CacheUnavailableException"/>: nothing was changed.
    /// </summary>
    private async Task<T> CallAsync<T>(Func<IRaftCacheGrain, Task<T>> call, long started, CancellationToken cancellationToken)
    {
        Exception? last = null;
        var remaining = Remaining(started);
        if (remaining > TimeSpan.Zero)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await _facades.CallAsync(call, remaining, cancellationToken).ConfigureAwait(false);
            }
            catch (OrleansException e)
            {
                last = e;
            }
            catch (TimeoutException)
            {
                // No answer within the deadline, through any gateway tried.
            }
        }

        var reason = last is null
            ? $"The cluster did not answer within the call timeout ({CallTimeout.TotalMilliseconds:0} ms)."
            : $"The cluster could not be reached ({last.GetType().Name}: {last.Message}).";
        throw new CacheUnavailableException(reason);
    }

    private TimeSpan Remaining(long started) => CallTimeout - Stopwatch.GetElapsedTime(started);

    // A null argument is a programming error (.NET convention: ArgumentNullException); a value the cache refuses
    // (empty, too large, not UTF-8) is a CacheArgumentException.
    private static void RequireKey(byte[] key, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(key))] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(key, name);
        if (key.Length == 0) throw new CacheArgumentException("The key must not be empty.");
    }

    /// <summary>The cluster's limits, after checking that the call is not canceled and <paramref name="key"/> fits them.</summary>
    private async Task<CacheLimits> GetLimitsForKeyAsync(byte[] key, long started, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var limits = await GetLimitsAsync(started, cancellationToken).ConfigureAwait(false);
        CheckKey(key, limits);
        return limits;
    }

    private static void RequirePositiveTtl(TimeSpan? ttl)
    {
        if (ttl is { } t && t <= TimeSpan.Zero) throw new CacheArgumentException($"The time to live must be positive (is {t}).");
    }

    private static void CheckTtl(TimeSpan? ttl, CacheLimits limits)
    {
        if (ttl > limits.MaxTtl) throw new CacheArgumentException($"The time to live {ttl} is longer than the cluster's limit of {limits.MaxTtl}.");
    }

    private static void CheckKey(byte[] key, CacheLimits limits)
    {
        if (key.Length > limits.MaxKeyBytes)
            throw new CacheArgumentException($"The key has {key.Length} bytes; the cluster's limit is {limits.MaxKeyBytes}. Nothing was sent.");
    }

    internal static byte[] Utf8(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text, what);
        try
        {
            return StrictUtf8.GetBytes(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new CacheArgumentException($"The {what} is not valid UTF-16: it has a lone surrogate at index {e.Index}, which has no UTF-8 encoding.");
        }
    }
}
