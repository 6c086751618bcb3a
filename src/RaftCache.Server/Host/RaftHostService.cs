using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RaftCache.Server.Group;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>
/// The Raft replica service of one silo: a grain service (a silo-pinned system target) that hosts this silo's
/// replica of each group it is a member of (<see cref="GroupReplica"/>) and owns what is per silo: the tick timer, the
/// transport to other silos, the view of Orleans membership, the member routes, the cluster's group layout, and
/// forming the groups when the cluster is first created.
/// </summary>
/// <remarks>
/// Orleans runs this service's calls, timers and continuations one at a time, but interleaves them at every
/// <c>await</c>. The replicas' Ready handling is synchronous, so it never interleaves with anything.
/// </remarks>
internal sealed partial class RaftHostService : GrainService, IRaftReplica, IReplicaHost
{
    private readonly IClusterMembershipService _membership;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly LocalReplica _localReplica;
    private readonly QuorumRecovery _recovery;
    private readonly Dictionary<ulong, SiloAddress> _routes = [];
    private readonly Dictionary<int, GroupReplica> _groups = [];
    // For readers on other threads (the façade): this silo's replica of each group by index, or null; replaced,
    // never changed, when a replica is added or dropped.
    private GroupReplica?[] _published = [];
    // The leader of each group as last learnt (from this silo's replicas or from other silos' answers), for the façade.
    private SiloAddress?[] _leaderHints = [];
    private ClusterLayout? _layout;
    private PlacementView? _placement;
    private readonly HashSet<int> _askingLeader = [];
    private long _lastStrayCheck;
    private bool _flushScheduled;
    private IGrainTimer? _ticker;

    public RaftHostService(
        GrainId id,
        Silo silo,
        ILoggerFactory loggerFactory,
        IOptions<RaftCacheOptions> options,
        IRaftReplicaClient peers,
        IClusterMembershipService membership,
        ILocalSiloDetails localSilo,
        RaftCacheInstruments instruments,
        TimeProvider time,
        LocalReplica localReplica,
        QuorumRecovery recovery)
        : base(id, silo, loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(localReplica);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(localSilo);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(instruments);
        Options = options.Value;
        Peers = peers;
        _membership = membership;
        Instruments = instruments;
        Time = time;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<RaftHostService>();
        Self = localSilo.SiloAddress;
        MemberId = MemberIds.For(Self);
        _routes[MemberId] = Self;
        _localReplica = localReplica;
        _recovery = recovery;
        localReplica.Host = this;
        // Read from the metrics thread: the published replicas and their leader silos are safe to read from any thread.
        instruments.Observe(() =>
        {
            var published = Volatile.Read(ref _published);
            return (published.Count(r => r is not null), published.Count(r => r?.LeaderSilo?.Equals(Self) == true));
        });
    }

    public SiloAddress Self { get; }

    public ulong MemberId { get; }

    public RaftCacheOptions Options { get; }

    public RaftCacheInstruments Instruments { get; }

    public TimeProvider Time { get; }

    public IRaftReplicaClient Peers { get; }

    public ClusterMembershipSnapshot Membership => _membership.CurrentSnapshot;

    public bool Stopping { get; private set; }

    public IReadOnlyCollection<(ulong MemberId, SiloAddress Silo)> Routes => [.. _routes.OrderBy(r => r.Key).Select(r => (r.Key, r.Value))];

    /// <summary>The cluster's group layout once this silo knows it (it formed the groups, or learnt them); any thread.</summary>
    public ClusterLayout? Layout => Volatile.Read(ref _layout);

    public override Task Start()
    {
        LogStarting(_logger, Self, MemberId);
        // The timer only says when to look at the clock: each replica runs as many ticks as the elapsed time warrants
        // (TickClock), so a callback that comes late, after a freeze of the process, does not shrink the freeze to a tick.
        _ticker = RegisterGrainTimer(OnTick, Options.TickInterval, Options.TickInterval);
        _ = WatchMembershipAsync();
        return base.Start();
    }

    public override async Task Stop()
    {
        Stopping = true;
        if (!_localReplica.StopIsUngraceful)
        {
            // Every group at once: each waits for its own leader, and one after the other would add up.
            await Task.WhenAll(_groups.Values.ToList().Select(async group =>
            {
                try
                {
                    await group.LeaveGracefullyAsync();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogLeaveFailed(_logger, group.Id, e);
                }
            }));
        }

        _ticker?.Dispose();
        await base.Stop();
    }

    private Task OnTick(CancellationToken cancellationToken)
    {
        if (_layout is null)
        {
            if (!Stopping) _ = DiscoverOrCreateLayoutAsync();
            return Task.CompletedTask;
        }

        foreach (var group in _groups.Values) group.OnTimer();
        Flush();
        DropReplicasRemovedFromTheirGroup();
        var now = Time.GetTimestamp();
        if (Time.GetElapsedTime(_lastStrayCheck, now) >= Options.MembershipCheckInterval)
        {
            _lastStrayCheck = now;
            CheckReplicasPlacedElsewhere();
            RecoverLostGroups();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A member that its group removed is not told so: once the leader has committed the removal it stops contacting
    /// the member (thesis §4.2.2), and a replica created by a message that was in flight then never becomes a member.
    /// So each replica that placement no longer puts on this silo asks the silos placement chooses for the group
    /// whether their leader's configuration still names it, and is dropped when the leader says no.
    /// </summary>
    private void CheckReplicasPlacedElsewhere()
    {
        var settle = Options.TickInterval * Options.ElectionTicks;
        foreach (var (index, replica) in _groups)
        {
            if (replica.IsLeader || replica.WasRemoved || _askingLeader.Contains(index) || Time.GetElapsedTime(replica.CreatedAt) < settle) continue;
            var placed = PlacementOf(index);
            if (placed.Contains(Self)) continue;
            _askingLeader.Add(index);
            _ = AskLeaderIfStillMemberAsync(index, replica, placed);
        }
    }

    private async Task AskLeaderIfStillMemberAsync(int index, GroupReplica replica, IReadOnlyList<SiloAddress> placed)
    {
        try
        {
            var candidates = (LeaderOf(index) is { } leader && !leader.Equals(Self) ? [leader] : Enumerable.Empty<SiloAddress>()).Concat(placed).Distinct();
            foreach (var silo in candidates)
            {
                if (silo.Equals(Self)) continue;
                try
                {
                    if (await Peers.For(silo).IsMember(replica.Id, MemberId).WaitAsync(Options.RequestTimeout, Time) is not { } member) continue;
                    if (!member)
                    {
                        LogNotAMemberAnyMore(_logger, replica.Id, silo);
                        replica.NoteRemovedByLeader();
                    }

                    return;
                }
                catch (Exception e) when (e is TimeoutException or OrleansException)
                {
                    // Ask the next one; the next check asks again.
                }
            }
        }
        finally
        {
            _askingLeader.Remove(index);
        }
    }

    public bool TryRoute(ulong memberId, [NotNullWhen(true)] out SiloAddress? silo)
    {
        if (_routes.TryGetValue(memberId, out silo)) return true;
        // Members are silo incarnations, so the live membership names every member the conf changes did not.
        foreach (var member in Membership.Members.Values)
        {
            if (MemberIds.For(member.SiloAddress) == memberId)
            {
                _routes[memberId] = silo = member.SiloAddress;
                return true;
            }
        }

        return false;
    }

    public void LearnRoute(ulong memberId, SiloAddress silo) => _routes[memberId] = silo;

    /// <summary>
    /// Runs <see cref="Flush"/> once the requests already queued on this service have run. Under load many
    /// proposals, reads and incoming batches then share one Ready: one append message per follower instead of one per
    /// request (group commit). Orleans queues the continuation of <c>Task.Yield</c> on this service's own scheduler,
    /// behind the work already waiting there.
    /// </summary>
    public void ScheduleFlush()
    {
        if (_flushScheduled) return;
        _flushScheduled = true;
        _ = FlushAsync();
    }

    private async Task FlushAsync()
    {
        await Task.Yield();
        _flushScheduled = false;
        Flush();
    }

    /// <summary>One Ready pass over the groups with work, then the messages it produced, one call per silo.</summary>
    private void Flush()
    {
        foreach (var group in _groups.Values)
        {
            if (group.HasReady) group.ProcessReady();
        }

        SendOutbox();
    }

    /// <summary>This silo's replica of <paramref name="group"/>, created when this silo joins the group; null if it has none.</summary>
    private GroupReplica? Admit(GroupId group, ulong from, ulong to, SiloAddress fromSilo, bool fromLeader)
    {
        if (to != MemberId || group.IsNone) return null;
        if (_layout is not { } layout)
        {
            // Messages of a cluster whose layout this silo has not learnt yet: learn it (the sender retries).
            if (!Stopping) _ = DiscoverOrCreateLayoutAsync();
            return null;
        }

        // Other layouts' messages are dropped: a replica never steps another cluster's traffic.
        if (group.Layout != layout.Id || group.Index < 0 || group.Index >= layout.Groups) return null;
        if (_groups.TryGetValue(group.Index, out var replica))
        {
            if (group.Epoch == replica.Id.Epoch)
            {
                _routes[from] = fromSilo;
                return replica;
            }

            // A replica of an epoch before a quorum-loss recovery never takes part in the recovered group: its messages
            // are dropped. This silo's own replica of an older epoch is replaced when the recovered group's leader
            // contacts it: it was not among the survivors the recovery re-formed, and joins the new epoch afresh.
            if (group.Epoch < replica.Id.Epoch || Stopping || !fromLeader) return null;
            DropForNewerEpoch(replica, group.Epoch);
        }

        // A silo joins a group through the first leader that contacts it (design §4 in docs/design.md: a new member
        // accepts its group's leader before it has applied its own addition).
        if (Stopping || !fromLeader) return null;
        _routes[from] = fromSilo;
        return AddGroup(GroupReplica.Join(this, group, _loggerFactory.CreateLogger<GroupReplica>()));
    }

    /// <summary>Drops this silo's replica of an epoch before <paramref name="epoch"/>; the caller adds the new epoch's.</summary>
    private void DropForNewerEpoch(GroupReplica replica, ulong epoch)
    {
        LogReplacedByEpoch(_logger, replica.Id, epoch);
        _groups.Remove(replica.Id.Index);
        replica.Dispose();
    }

    private GroupReplica AddGroup(GroupReplica replica)
    {
        _groups[replica.Id.Index] = replica;
        Publish();
        return replica;
    }

    private void Publish()
    {
        var published = new GroupReplica?[_layout?.Groups ?? 0];
        foreach (var (index, replica) in _groups) published[index] = replica;
        Volatile.Write(ref _published, published);
    }

    /// <summary>
    /// Drops replicas whose group applied a configuration without them (placement moved the group elsewhere): after
    /// their removal they are never contacted again, and keeping them would keep their state in memory.
    /// </summary>
    private void DropReplicasRemovedFromTheirGroup()
    {
        List<int>? removed = null;
        foreach (var (index, replica) in _groups)
        {
            if (replica.WasRemoved) (removed ??= []).Add(index);
        }

        if (removed is null) return;
        foreach (var index in removed)
        {
            _groups.Remove(index, out var replica);
            // The leader it last knew took over from it (a removed leader hands over first): a good hint for the façade.
            if (replica!.LeaderSilo is { } leader && !leader.Equals(Self)) NoteLeader(index, leader);
            replica.Dispose();
            LogReplicaDropped(_logger, replica.Id);
        }

        Publish();
    }

    /// <inheritdoc/>
    public IReadOnlyList<SiloAddress> PlacementOf(int group)
    {
        var placement = CurrentPlacement();
        return placement is null || group >= placement.Replicas.Length ? [] : placement.Replicas[group];
    }

    /// <inheritdoc/>
    public SiloAddress? PreferredLeaderOf(int group)
    {
        var placement = CurrentPlacement();
        return placement is null || group >= placement.Leaders.Length ? null : placement.Leaders[group];
    }

    /// <summary>
    /// The placement for the current membership view, computed again only when the view changes: every silo that sees
    /// the same active silos computes the same placement. Any thread (the façade asks where a group lives).
    /// </summary>
    private PlacementView? CurrentPlacement()
    {
        if (Layout is not { } layout) return null;
        var snapshot = Membership;
        var current = Volatile.Read(ref _placement);
        if (current is not null && current.Version == snapshot.Version && current.Layout == layout.Id) return current;
        var active = snapshot.ActiveSilos();
        var replicas = Placement.Replicas(layout, active, Options.Voters);
        var computed = new PlacementView(snapshot.Version, layout.Id, replicas, Placement.PreferredLeaders(replicas));
        Volatile.Write(ref _placement, computed);
        return computed;
    }

    private sealed record PlacementView(MembershipVersion Version, Guid Layout, List<SiloAddress>[] Replicas, SiloAddress[] Leaders);

    /// <summary>The leader of <paramref name="group"/> as this silo knows it; any thread (the façade routes by it).</summary>
    public SiloAddress? LeaderOf(int group)
    {
        var published = Volatile.Read(ref _published);
        var hints = Volatile.Read(ref _leaderHints);
        var leader = group < published.Length && published[group]?.LeaderSilo is { } known ? known
            : group < hints.Length ? Volatile.Read(ref hints[group]) : null;
        // A leader on a silo Orleans declared dead cannot answer: a write sent there could only end as unknown.
        return leader is not null && Membership.GetSiloStatus(leader) == SiloStatus.Dead ? null : leader;
    }

    /// <summary>Whether this silo holds a replica of <paramref name="group"/>; any thread.</summary>
    public bool Hosts(int group)
    {
        var published = Volatile.Read(ref _published);
        return group < published.Length && published[group] is not null;
    }

    /// <summary>Records where another silo said <paramref name="group"/>'s leader is; any thread.</summary>
    public void NoteLeader(int group, SiloAddress leader)
    {
        var hints = Volatile.Read(ref _leaderHints);
        if (group < hints.Length) Volatile.Write(ref hints[group], leader);
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Raft replica service starting on {Silo} as member {MemberId}")]
    private static partial void LogStarting(ILogger logger, SiloAddress silo, ulong memberId);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Group {Group}: leaving the group gracefully failed")]
    private static partial void LogLeaveFailed(ILogger logger, GroupId group, Exception exception);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Group {Group}: the leader on {Silo} says this silo's replica is no longer a member")]
    private static partial void LogNotAMemberAnyMore(ILogger logger, GroupId group, SiloAddress silo);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Group {Group}: the group was re-formed in epoch {Epoch} without this replica; it joins the new epoch afresh")]
    private static partial void LogReplacedByEpoch(ILogger logger, GroupId group, ulong epoch);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Group {Group}: this silo's replica was removed from the group and is dropped")]
    private static partial void LogReplicaDropped(ILogger logger, GroupId group);
}
