using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using RaftCache.Server.Host;
using RaftCache.Server.Transport;

namespace RaftCache.Server;

/// <summary>
/// The façade: accepts cache commands on any silo and routes them to the leader replica, following leader hints and
/// retrying what is safe to retry until <see cref="RaftCacheOptions.RequestTimeout"/> passes.
/// </summary>
/// <remarks>
/// Retried: <c>NotLeader</c> (to the hinted leader), <c>NotApplied</c> and unreachable replicas. A write whose outcome
/// became unknown (the leader failed after appending it, or a call timed out) is retried only when it carries a client
/// session, because the session makes a second application impossible (Raft thesis §6.3); otherwise the caller is
/// told the outcome is unknown.
/// </remarks>
// Reentrant: the façade holds no state, and each request mostly waits on the leader; without it one activation
// would serve one request at a time and cap throughput at the number of activations.
[StatelessWorker]
[Reentrant]
internal sealed class RaftCacheGrain(
    IRaftReplicaClient replicas,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    IOptions<RaftCacheOptions> options,
    TimeProvider time,
    LocalReplica localReplica) : Grain, IRaftCacheGrain
{
    private readonly RaftCacheOptions _options = options.Value;

    public Task<CacheReply> Get(byte[] key, ReadConsistency consistency)
    {
        if (consistency == ReadConsistency.Local)
        {
            return localReplica.Host is { } host
                ? Task.FromResult(host.ReadLocal(key))
                : replicas.For(localSilo.SiloAddress).Read(key, consistency, _options.RequestTimeout);
        }

        return RouteAsync((replica, remaining) => replica.Read(key, consistency, remaining), mayHaveApplied: false, retryUnknown: true);
    }

    public Task<CacheReply> Write(CacheWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        return RouteAsync((replica, remaining) => replica.Write(write, remaining), mayHaveApplied: true, retryUnknown: write.SessionId != 0);
    }

    public Task<CacheReply> RegisterSession() =>
        // Registering twice only costs an unused session, which expires; so it is safe to retry.
        RouteAsync((replica, remaining) => replica.RegisterSession(remaining), mayHaveApplied: true, retryUnknown: true);

    public Task<CacheLimits> GetLimits() => Task.FromResult(new CacheLimits
    {
        MaxKeyBytes = _options.Cache.MaxKeyBytes,
        MaxValueBytes = _options.Cache.MaxValueBytes,
        MaxTtl = _options.Cache.MaxTtl,
        MaxInFlightPerSession = _options.Cache.MaxInFlightPerSession,
    });

    public async Task<ClusterStatus> GetStatus()
    {
        var silos = membership.CurrentSnapshot.ActiveSilos();
        var calls = silos.Select(async silo =>
        {
            try
            {
                return (silo, await replicas.For(silo).GetStatus().WaitAsync(_options.RequestTimeout, time), (string?)null);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return (silo, (ReplicaStatus?)null, e.GetType().Name + ": " + e.Message);
            }
        }).ToList();
        var results = await Task.WhenAll(calls);
        return new ClusterStatus
        {
            Replicas = [.. results.Where(r => r.Item2 is not null).Select(r => r.Item2!)],
            Unreachable = [.. results.Where(r => r.Item2 is null).Select(r => $"{r.silo}: {r.Item3}")],
        };
    }

    /// <summary>The active silo after <paramref name="current"/> in address order; <paramref name="wrapped"/> when the order starts over.</summary>
    private SiloAddress NextSilo(SiloAddress current, out bool wrapped)
    {
        // The local silo first, then the others in address order.
        var silos = membership.CurrentSnapshot.ActiveSilos().OrderBy(s => s.Equals(localSilo.SiloAddress) ? 0 : 1).ToList();
        var index = silos.IndexOf(current);
        wrapped = index < 0 || index == silos.Count - 1;
        return silos.Count == 0 ? localSilo.SiloAddress : silos[wrapped ? 0 : index + 1];
    }

    private async Task<CacheReply> RouteAsync(Func<IRaftReplica, TimeSpan, Task<CacheReply>> call, bool mayHaveApplied, bool retryUnknown)
    {
        var started = time.GetTimestamp();
        var target = localSilo.SiloAddress;
        var outcomeUnknown = false;
        var backoff = TimeSpan.FromMilliseconds(10);
        CacheReply? last = null;
        while (true)
        {
            var remaining = _options.RequestTimeout - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero) break;
            CacheReply reply;
            try
            {
                // The replica bounds its own wait by `remaining`; the outer bound covers a silo that died mid-call.
                reply = await call(replicas.For(target), remaining).WaitAsync(remaining + _options.TickInterval, time);
            }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or OrleansException)
            {
                outcomeUnknown |= mayHaveApplied;
                if (outcomeUnknown && !retryUnknown) return CacheReply.Fail(CacheStatusCode.OutcomeUnknown, $"The replica on {target} did not answer ({e.GetType().Name}); the command may or may not be applied.");
                target = NextSilo(target, out _);
                await Task.Delay(backoff, time);
                continue;
            }

            last = reply;
            switch (reply.Status)
            {
                case CacheStatusCode.NotLeader:
                    if (reply.LeaderHint is { } hint && SiloAddress.FromParsableString(hint) is var leader && !leader.Equals(target))
                    {
                        target = leader;
                        continue;
                    }

                    break;
                case CacheStatusCode.NotApplied:
                case CacheStatusCode.Unavailable:
                    break;
                case CacheStatusCode.OutcomeUnknown when retryUnknown:
                    outcomeUnknown = true;
                    break;
                default:
                    return reply;
            }

            // The replica asked knows no leader (an election, or it is cut off or not yet in the group) or the
            // proposal was dropped: ask the next silo's replica, and pause after each full round of silos.
            target = NextSilo(target, out var wrapped);
            if (wrapped)
            {
                await Task.Delay(backoff, time);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, _options.TickInterval.TotalMilliseconds * 2));
            }
        }

        if (outcomeUnknown)
            return CacheReply.Fail(CacheStatusCode.OutcomeUnknown, $"No answer within {_options.RequestTimeout.TotalMilliseconds:0} ms after the command was proposed; it may or may not be applied.");
        var reason = last?.Message is { } message ? " Last answer: " + message : string.Empty;
        return CacheReply.Fail(CacheStatusCode.Unavailable, $"No leader with a quorum answered within {_options.RequestTimeout.TotalMilliseconds:0} ms; nothing was applied.{reason}");
    }
}
