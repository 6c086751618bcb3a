using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using RaftCache.Server.Host;
using RaftCache.Server.Transport;

namespace RaftCache.Server;

/// <summary>
/// The façade: accepts batches of cache operations on any silo and routes each to the replica that can serve it,
/// splitting a batch only by destination, following leader hints and retrying what is safe to retry until
/// <see cref="RaftCacheOptions.RequestTimeout"/> passes.
/// </summary>
/// <remarks>
/// <para>Routing, per operation by the group of its key: local reads are served by this silo's replica of the group at
/// once, without a call; linearizable reads by this silo's replica too, as leader or as follower (thesis §6.4), so
/// read load spreads over the group's replicas; writes and lease reads go straight to the group's leader as this silo
/// knows it (one silo-to-silo hop). Where this silo holds no replica of the group, reads go to the group's leader
/// too; with no leader known, a request goes to a silo placement chooses for the group, which answers with the
/// leader it learns of.</para>
/// <para>Retried: <c>NotLeader</c> (to the hinted leader), <c>NotApplied</c>, <c>Unavailable</c> and unreachable
/// replicas. A write whose outcome became unknown (the leader failed after appending it, or a call timed out) is
/// retried only when it carries a client session, because the session makes a second application impossible (Raft
/// thesis §6.3); otherwise the caller is told the outcome is unknown.</para>
/// </remarks>
// Reentrant: the façade holds no state, and each request mostly waits on a replica; without it one activation
// would serve one request at a time and cap throughput at the number of activations.
[StatelessWorker]
[Reentrant]
internal sealed class RaftCacheGrain(
    IRaftReplicaClient replicas,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    IOptions<RaftCacheOptions> options,
    TimeProvider time,
    LocalReplica localReplica,
    QuorumRecovery recovery) : Grain, IRaftCacheGrain
{
    private const int MaxHintsFollowed = 3;
    private readonly RaftCacheOptions _options = options.Value;

    public Task<CacheReply[]> Execute(CacheRequest[] requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        // Untraced while nothing listens: then tracing costs this one check per call.
        return CacheTracing.Source.HasListeners() ? ExecuteTracedAsync(requests) : ExecuteCoreAsync(requests);
    }

    /// <summary>Runs the requests, each in its façade span; the requests carry those spans on to the replicas.</summary>
    private async Task<CacheReply[]> ExecuteTracedAsync(CacheRequest[] requests)
    {
        var spans = ServerTracing.StartFacade(requests, out var traced);
        try
        {
            var replies = await ExecuteCoreAsync(traced);
            ServerTracing.Stop(spans, replies);
            return replies;
        }
        catch (Exception e)
        {
            ServerTracing.Stop(spans, e);
            throw;
        }
    }

    private async Task<CacheReply[]> ExecuteCoreAsync(CacheRequest[] requests)
    {
        var replies = new CacheReply[requests.Length];
        List<Pending>? pending = null;
        var host = localReplica.Host;
        for (var i = 0; i < requests.Length; i++)
        {
            var request = requests[i];
            if (request is { Operation: CacheOperation.Get, Consistency: ReadConsistency.Local } && host?.ReadLocal(request) is { } local)
            {
                // This silo holds the key's group: its state is readable from any thread, no call into its scheduler.
                replies[i] = local;
                continue;
            }

            (pending ??= []).Add(new Pending(i, request, FirstTarget(request, host)));
        }

        if (pending is not null) await RouteAsync(pending, replies);
        return replies;
    }

    public async Task<CacheLimits> GetLimits()
    {
        // A client needs the layout to address groups: while the cluster forms its groups, wait for it (briefly).
        var started = time.GetTimestamp();
        ClusterLayout? layout;
        while ((layout = localReplica.Host?.Layout) is null && time.GetElapsedTime(started) < _options.RequestTimeout)
            await Task.Delay(_options.TickInterval, time);
        return new CacheLimits
        {
            MaxKeyBytes = _options.Cache.MaxKeyBytes,
            MaxValueBytes = _options.Cache.MaxValueBytes,
            MaxTtl = _options.Cache.MaxTtl,
            MaxInFlightPerSession = _options.Cache.MaxInFlightPerSession,
            Layout = layout,
        };
    }

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
                return (silo, (ReplicaStatus[]?)null, e.GetType().Name + ": " + e.Message);
            }
        }).ToList();
        var results = await Task.WhenAll(calls);
        return new ClusterStatus
        {
            Replicas = [.. results.Where(r => r.Item2 is not null).SelectMany(r => r.Item2!)],
            Unreachable = [.. results.Where(r => r.Item2 is null).Select(r => $"{r.silo}: {r.Item3}")],
        };
    }

    public async Task<GroupRecovery[]> RecoverQuorum(int? group, bool confirm)
    {
        // The layout from this silo, or from any live silo that knows it.
        var layout = localReplica.Host?.Layout;
        foreach (var silo in membership.CurrentSnapshot.ActiveSilos())
        {
            if (layout is not null) break;
            try
            {
                layout = await replicas.For(silo).GetLayout().WaitAsync(_options.RequestTimeout, time);
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                // Ask the next silo.
            }
        }

        if (layout is null)
            return [new GroupRecovery { Group = group ?? 0, Outcome = RecoveryOutcome.Refused, Message = "No live silo knows the cluster's Raft groups (not formed yet): there is nothing to recover." }];
        return await recovery.RunAsync(layout, group, confirm);
    }

    public Task<FacadeLocation> Locate()
    {
        // Answered from this silo's own view, without calling another silo: a client asks to learn which gateway a
        // façade key reaches and where to send writes (design §4, "Batching and routing").
        var host = localReplica.Host;
        var leaders = new string?[host?.Layout?.Groups ?? 0];
        for (var group = 0; group < leaders.Length; group++) leaders[group] = host!.LeaderOf(group)?.ToParsableString();
        return Task.FromResult(new FacadeLocation { Silo = localSilo.SiloAddress.ToParsableString(), Leaders = leaders });
    }

    /// <summary>Where a request goes first: see the routing rules in the class remarks.</summary>
    private SiloAddress FirstTarget(CacheRequest request, RaftHostService? host)
    {
        var self = localSilo.SiloAddress;
        if (host is null) return self;
        var group = request.Group;
        if (request is { Operation: CacheOperation.Get, Consistency: ReadConsistency.Linearizable or ReadConsistency.Local } && host.Hosts(group)) return self;
        return host.LeaderOf(group) ?? (host.Hosts(group) ? self : (host.PlacementOf(group) is { Count: > 0 } placed ? placed[0] : self));
    }

    /// <summary>
    /// Sends the pending requests, one call per destination silo, until each has a final reply or the deadline
    /// passes. Requests whose replica could not serve them move on (to the hinted leader, or the next silo) and go in
    /// the next round, again grouped by destination.
    /// </summary>
    private async Task RouteAsync(List<Pending> pending, CacheReply[] replies)
    {
        var started = time.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(10);
        while (pending.Count > 0)
        {
            var remaining = _options.RequestTimeout - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero) break;
            var rounds = pending.GroupBy(p => p.Target).Select(g => SendAsync(g.Key, [.. g], remaining)).ToList();
            await Task.WhenAll(rounds);

            var waitBeforeRetry = false;
            for (var i = pending.Count - 1; i >= 0; i--)
            {
                var item = pending[i];
                if (item.Final is { } final)
                {
                    replies[item.Index] = final;
                    pending.RemoveAt(i);
                }
                else
                {
                    waitBeforeRetry |= item.Wait;
                }
            }

            // Replicas that knew no leader (an election, a cut-off replica, one not yet in the group): pause before
            // the next round, longer each time, up to two ticks.
            if (pending.Count > 0 && waitBeforeRetry)
            {
                await Task.Delay(backoff, time);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, _options.TickInterval.TotalMilliseconds * 2));
            }
        }

        foreach (var item in pending)
        {
            var reason = item.Last?.Message is { } message ? " Last answer: " + message : string.Empty;
            replies[item.Index] = item.OutcomeUnknown
                ? CacheReply.Fail(CacheStatusCode.OutcomeUnknown, $"No answer within {_options.RequestTimeout.TotalMilliseconds:0} ms after the command was proposed; it may or may not be applied.{reason}")
                : CacheReply.Fail(CacheStatusCode.Unavailable, $"No leader with a quorum answered within {_options.RequestTimeout.TotalMilliseconds:0} ms; nothing was applied.{reason}");
        }
    }

    /// <summary>One call to one silo's replica with the requests bound for it; decides each request's next step.</summary>
    private async Task SendAsync(SiloAddress target, Pending[] batch, TimeSpan remaining)
    {
        CacheReply[] answers;
        try
        {
            // The replica bounds its own wait by `remaining`; the outer bound covers a silo that died mid-call.
            var requests = new CacheRequest[batch.Length];
            for (var i = 0; i < requests.Length; i++) requests[i] = batch[i].Request;
            var call = target.Equals(localSilo.SiloAddress) && localReplica.Host is { } local
                ? local.ExecuteLocal(requests, remaining)
                : replicas.For(target).Execute(requests, remaining);
            answers = await call.WaitAsync(remaining + _options.TickInterval, time);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            foreach (var item in batch)
            {
                item.OutcomeUnknown |= item.Request.IsWrite;
                if (item.OutcomeUnknown && !item.Retryable)
                {
                    item.Final = CacheReply.Fail(CacheStatusCode.OutcomeUnknown, $"The replica on {target} did not answer ({e.GetType().Name}); the command may or may not be applied.");
                    continue;
                }

                item.Target = NextSilo(item.Request.Group, target);
                item.Wait = true;
            }

            return;
        }

        for (var i = 0; i < batch.Length; i++)
        {
            var item = batch[i];
            var reply = answers[i];
            item.Last = reply;
            item.Wait = false;
            switch (reply.Status)
            {
                case CacheStatusCode.NotLeader when reply.LeaderHint is { } hint && SiloAddress.FromParsableString(hint) is var leader && !leader.Equals(target) && item.HintsFollowed < MaxHintsFollowed:
                    // Hints can be stale (a silo that left a group remembers its last leader): after a few in a row,
                    // the silos placement chooses for the group are asked in turn instead.
                    item.HintsFollowed++;
                    localReplica.Host?.NoteLeader(item.Request.Group, leader);
                    item.Target = leader;
                    break;
                case CacheStatusCode.NotLeader:
                case CacheStatusCode.NotApplied:
                case CacheStatusCode.Unavailable:
                    // The replica asked knows no leader, dropped the proposal, or could not confirm a read index (or
                    // its silo holds no replica of the group): ask the leader this silo knows now, or the next silo.
                    item.Target = item.HintsFollowed < MaxHintsFollowed && localReplica.Host?.LeaderOf(item.Request.Group) is { } known && !known.Equals(target)
                        ? known
                        : NextSilo(item.Request.Group, target);
                    item.HintsFollowed = 0;
                    item.Wait = true;
                    break;
                case CacheStatusCode.OutcomeUnknown when item.Retryable:
                    item.OutcomeUnknown = true;
                    item.Target = NextSilo(item.Request.Group, target);
                    item.Wait = true;
                    break;
                default:
                    item.Final = reply;
                    break;
            }
        }
    }

    /// <summary>
    /// The silo to try after <paramref name="current"/> for <paramref name="group"/>: the next of the silos placement
    /// chooses for the group (where its replicas are, or soon will be), or, with no placement known, the next active
    /// silo (this silo first, then the others in address order).
    /// </summary>
    private SiloAddress NextSilo(int group, SiloAddress current)
    {
        var placed = localReplica.Host?.PlacementOf(group) ?? [];
        var silos = placed.Count > 0
            ? [.. placed]
            : membership.CurrentSnapshot.ActiveSilos().OrderBy(s => s.Equals(localSilo.SiloAddress) ? 0 : 1).ToList();
        var index = silos.IndexOf(current);
        return silos.Count == 0 ? localSilo.SiloAddress : silos[index < 0 || index == silos.Count - 1 ? 0 : index + 1];
    }

    /// <summary>One request on its way: where it goes next, what is known of its outcome, and its final reply.</summary>
    private sealed class Pending(int index, CacheRequest request, SiloAddress target)
    {
        public int Index { get; } = index;

        public CacheRequest Request { get; } = request;

        public SiloAddress Target { get; set; } = target;

        /// <summary>A retry cannot apply it twice: reads, session registrations, and writes in a client session.</summary>
        public bool Retryable => !Request.IsWrite || Request.Operation == CacheOperation.RegisterSession || Request.SessionId != 0;

        public bool OutcomeUnknown { get; set; }

        /// <summary>Leader hints followed in a row.</summary>
        public int HintsFollowed { get; set; }

        public bool Wait { get; set; }

        public CacheReply? Last { get; set; }

        public CacheReply? Final { get; set; }
    }
}
