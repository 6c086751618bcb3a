using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RaftCache.Server.Group;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>
/// The Raft replica service of one silo: a grain service (a silo-pinned system target) that hosts this silo's
/// replica of each group it is a member of (<see cref="GroupReplica"/>) and owns what is per silo: the tick timer, the
/// transport to other silos, the view of Orleans membership, the member routes, and forming the first group.
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
    private readonly Dictionary<ulong, SiloAddress> _routes = [];
    private readonly Dictionary<GroupId, GroupReplica> _groups = [];
    // The groups for readers on other threads (local reads): replaced, never changed, when a group is added.
    private GroupReplica[] _published = [];
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
        LocalReplica localReplica)
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
        localReplica.Host = this;
        instruments.Observe(() => Group is not { } group
            ? (-1, 0, 0, 0)
            : ((int)group.Status.SoftState.Role, group.Status.HardState.Term, group.Status.HardState.Commit, (ulong)group.Cache.AppliedIndex));
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

    /// <summary>This silo's replica of the group, or null before it joined one. (One group per cluster for now.)</summary>
    private GroupReplica? Group
    {
        get
        {
            foreach (var group in _groups.Values) return group;
            return null;
        }
    }

    public override Task Start()
    {
        LogStarting(_logger, Self, MemberId);
        _ticker = RegisterGrainTimer(OnTick, Options.TickInterval, Options.TickInterval);
        _ = WatchMembershipAsync();
        return base.Start();
    }

    public override async Task Stop()
    {
        Stopping = true;
        if (!_localReplica.StopIsUngraceful)
        {
            foreach (var group in _groups.Values.ToList())
            {
                try
                {
                    await group.LeaveGracefullyAsync();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogLeaveFailed(_logger, group.Id, e);
                }
            }
        }

        _ticker?.Dispose();
        await base.Stop();
    }

    private Task OnTick(CancellationToken cancellationToken)
    {
        if (_groups.Count == 0)
        {
            if (!Stopping) _ = TryBootstrapAsync();
            return Task.CompletedTask;
        }

        foreach (var group in _groups.Values) group.Tick();
        Flush();
        return Task.CompletedTask;
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

    /// <summary>A group replica of this silo, created when this silo joins the group; null if this silo has none.</summary>
    private GroupReplica? Admit(GroupId group, ulong from, ulong to, SiloAddress fromSilo, bool fromLeader)
    {
        if (to != MemberId || group.IsNone) return null;
        if (_groups.TryGetValue(group, out var replica))
        {
            _routes[from] = fromSilo;
            return replica;
        }

        // A replica in a group drops other groups' messages; one not in a group yet joins the group of the first
        // leader that contacts it (design §4 in docs/design.md: a new member accepts its group's leader before it
        // has applied its own addition).
        if (Stopping || !fromLeader || _groups.Count > 0) return null;
        _routes[from] = fromSilo;
        return AddGroup(GroupReplica.Join(this, group, _loggerFactory.CreateLogger<GroupReplica>()));
    }

    private GroupReplica AddGroup(GroupReplica replica)
    {
        _groups[replica.Id] = replica;
        Volatile.Write(ref _published, [.. _groups.Values]);
        return replica;
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Raft replica service starting on {Silo} as member {MemberId}")]
    private static partial void LogStarting(ILogger logger, SiloAddress silo, ulong memberId);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Group {Group}: leaving the group gracefully failed")]
    private static partial void LogLeaveFailed(ILogger logger, GroupId group, Exception exception);
}
