using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RaftCache.Raft;
using RaftCache.Raft.Membership;
using RaftCache.Server.Transport;
using RaftCache.StateMachine;

namespace RaftCache.Server.Replica;

/// <summary>
/// The Raft replica of one silo: a grain service (a silo-pinned system target) that drives a <see cref="RawNode"/>,
/// keeps its log in a <see cref="MemStorage"/>, applies committed commands to a <see cref="CacheStateMachine"/>, and
/// talks to the replicas of other silos through Orleans calls.
/// </summary>
/// <remarks>
/// Orleans runs this service's calls, timers and continuations one at a time, but interleaves them at every
/// <c>await</c>. All work on the Raft node is therefore synchronous: a Ready is fetched, persisted, sent, applied and
/// advanced without an <c>await</c> in between (<see cref="ProcessReady"/>).
/// </remarks>
internal sealed partial class RaftReplicaService : GrainService, IRaftReplica
{
    private readonly RaftCacheOptions _options;
    private readonly IRaftReplicaClient _peers;
    private readonly IClusterMembershipService _membership;
    private readonly RaftCacheInstruments _instruments;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SiloAddress _self;
    private readonly ulong _memberId;
    private readonly Random _random;
    private readonly LocalReplica _localReplica;

    private readonly Dictionary<ulong, SiloAddress> _routes = [];
    private readonly Dictionary<ulong, PendingWrite> _pendingWrites = [];
    private readonly Dictionary<ulong, TaskCompletionSource<ulong>> _pendingReads = [];
    private readonly PriorityQueue<TaskCompletionSource<ulong>, ulong> _readsAwaitingApply = new();
    private readonly List<ulong> _unreachable = [];

    private CacheStateMachine _cache;
    private MemStorage? _storage;
    private RawNode? _node;
    private Guid _groupId;
    private SoftState _softState;
    private ulong _nextReadId;
    private bool _flushScheduled;
    private ulong _term;
    private long _lastProposalTimestamp;
    private long _lastMembershipCheck;
    private ulong _snapshotIndex;
    private string? _fault;
    private bool _stopping;
    private IGrainTimer? _ticker;
    private TaskCompletionSource? _leaderChanged;

    public RaftReplicaService(
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
        _options = options.Value;
        _peers = peers;
        _membership = membership;
        _instruments = instruments;
        _time = time;
        _logger = loggerFactory.CreateLogger<RaftReplicaService>();
        _self = localSilo.SiloAddress;
        _memberId = MemberIds.For(_self);
        _random = new Random(unchecked((int)_memberId ^ Environment.TickCount));
        _cache = new CacheStateMachine(_options.Cache);
        _routes[_memberId] = _self;
        _localReplica = localReplica;
        localReplica.Replica = this;
        _instruments.Observe(() => _node is null
            ? (-1, 0, 0, (ulong)_cache.AppliedIndex)
            : ((int)_softState.Role, _node.Status.HardState.Term, _node.Status.HardState.Commit, (ulong)_cache.AppliedIndex));
    }

    /// <summary>This replica's Raft member id.</summary>
    public ulong MemberId => _memberId;

    private bool IsLeader => _node is not null && _softState.Role == StateRole.Leader;

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public override Task Start()
    {
        LogStarting(_logger, _self, _memberId);
        _lastProposalTimestamp = _time.GetTimestamp();
        _ticker = RegisterGrainTimer(OnTick, _options.TickInterval, _options.TickInterval);
        _ = WatchMembershipAsync();
        return base.Start();
    }

    public override async Task Stop()
    {
        _stopping = true;
        try
        {
            if (!_localReplica.StopIsUngraceful) await LeaveGracefullyAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogLeaveFailed(_logger, e);
        }

        _ticker?.Dispose();
        await base.Stop();
    }

    private Task OnTick(CancellationToken cancellationToken)
    {
        if (_node is null)
        {
            if (!_stopping) _ = TryBootstrapAsync();
            return Task.CompletedTask;
        }

        if (_fault is not null) return Task.CompletedTask;
        _node.Tick();
        ProcessReady();
        if (IsLeader && !_stopping)
        {
            MaybeProposeTimeEntry();
            var now = _time.GetTimestamp();
            if (_time.GetElapsedTime(_lastMembershipCheck, now) >= _options.MembershipCheckInterval)
            {
                _lastMembershipCheck = now;
                ReconcileMembership();
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Creates the node over <paramref name="storage"/>; the cache starts empty or from the storage's snapshot.</summary>
    private void CreateNode(Guid groupId, MemStorage storage)
    {
        _groupId = groupId;
        _storage = storage;
        var config = new RaftConfig
        {
            Id = _memberId,
            ElectionTick = _options.ElectionTicks,
            HeartbeatTick = _options.HeartbeatTicks,
            LeaseSafetyMarginTicks = _options.LeaseSafetyMarginTicks,
            MaxSizePerMsg = _options.MaxSizePerMessage,
            MaxInflightMsgs = _options.MaxInflightMessages,
            PreVote = true,
            CheckQuorum = true,
            // Proposals are made on the leader only, which needs the entry's (term, index) to track the outcome.
            DisableProposalForwarding = true,
            Applied = (ulong)_cache.AppliedIndex,
            Random = _random,
        };
        _node = new RawNode(config, storage);
        _softState = new SoftState(RaftConfig.None, StateRole.Follower);
        LogJoinedGroup(_logger, _memberId, groupId);
    }

    /// <summary>
    /// Runs <see cref="ProcessReady"/> once the requests already queued on this service have run. Under load many
    /// proposals, reads and incoming batches then share one Ready: one append message per follower instead of one per
    /// request (group commit). Orleans queues the continuation of <c>Task.Yield</c> on this service's own scheduler,
    /// behind the work already waiting there.
    /// </summary>
    private void ScheduleFlush()
    {
        if (_flushScheduled) return;
        _flushScheduled = true;
        _ = FlushAsync();
    }

    private async Task FlushAsync()
    {
        await Task.Yield();
        _flushScheduled = false;
        ProcessReady();
    }

    /// <summary>
    /// Handles everything the node has ready, in the order the Ready contract requires: persist, send, apply,
    /// advance. Synchronous on purpose: an <c>await</c> here would let another call step the node mid-Ready.
    /// </summary>
    private void ProcessReady()
    {
        if (_node is null || _storage is null || _fault is not null) return;
        try
        {
            while (HandleReadies())
            {
                // Reported only after Advance: nothing may step the node between GetReady and Advance.
                foreach (var id in _unreachable) _node.ReportUnreachable(id);
                _unreachable.Clear();
                foreach (var (to, success) in _pendingSnapshotReports) _node.ReportSnapshot(to, success);
                _pendingSnapshotReports.Clear();
            }

            CompleteReadsUpTo((ulong)_cache.AppliedIndex);
            MaybeCompact();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A broken invariant or storage failure leaves the node in an unknown state: stop rather than guess.
            Halt($"Processing a Raft Ready failed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>Handles Readies until none is left; true if unreachable peers or snapshot outcomes wait to be reported.</summary>
    private bool HandleReadies()
    {
        var node = _node!;
        var storage = _storage!;
        while (_fault is null && node.HasReady)
        {
            var ready = node.GetReady();
            if (ready.Snapshot is { IsEmpty: false } snapshot) storage.ApplySnapshot(snapshot);
            if (!ready.Entries.IsEmpty) storage.Append(ready.Entries);
            if (ready.HardState is { } hardState)
            {
                storage.SetHardState(hardState);
                _term = hardState.Term;
            }

            Send(ready.Messages);

            if (ready.Snapshot is { IsEmpty: false } installed) RestoreSnapshot(installed);
            foreach (var entry in ready.CommittedEntries)
            {
                Apply(entry);
                if (_fault is not null) return false;
            }

            foreach (var readState in ready.ReadStates) OnReadState(readState);
            node.Advance(ready);
            if (ready.SoftState is { } softState) OnSoftStateChanged(softState);
        }

        return _fault is null && (_unreachable.Count > 0 || _pendingSnapshotReports.Count > 0);
    }

    private void Apply(Entry entry)
    {
        try
        {
            if (entry.Type == EntryType.ConfChange)
            {
                ApplyConfChange(entry);
                return;
            }

            if (entry.Data.IsEmpty)
            {
                _cache.ApplyNoOp((long)entry.Index);
                CompleteWrite(entry, null);
                return;
            }

            var result = _cache.Apply((long)entry.Index, entry.Data);
            CompleteWrite(entry, result);
        }
        catch (Exception e) when (e is CommandDecodeException or StateMachineFaultedException or FormatException or InvalidConfChangeException)
        {
            // Design §3 (docs/design.md): a committed entry that cannot be applied halts the replica; it is never skipped.
            Halt($"Entry {entry.Index} (term {entry.Term}) could not be applied: {e.Message}", e);
        }
    }

    private void ApplyConfChange(Entry entry)
    {
        var change = ConfChangeCodec.Decode(entry.Data.Span);
        foreach (var (id, silo) in MemberContext.Decode(change.Context)) _routes[id] = silo;
        var confState = _node!.ApplyConfChange(change);
        _storage!.SetConfState(confState);
        _cache.ApplyNoOp((long)entry.Index);
        LogConfChangeApplied(_logger, entry.Index, new MemberList(confState.Voters), new MemberList(confState.Learners), confState.IsJoint);
        CompleteWrite(entry, null);
    }

    private void CompleteWrite(Entry entry, ApplyResult? result)
    {
        if (!_pendingWrites.Remove(entry.Index, out var pending)) return;
        if (pending.Term != entry.Term)
        {
            // Another leader's entry took this index: ours was never committed (Raft §5.3 log matching).
            pending.Completion.TrySetResult(CacheReply.Fail(CacheStatusCode.NotApplied, "A different entry was committed at the proposal's index."));
            return;
        }

        _instruments.OnProposalApplied(_time.GetElapsedTime(pending.StartedAt));
        pending.Completion.TrySetResult(ToReply(entry.Index, result));
    }

    private static CacheReply ToReply(ulong index, ApplyResult? result)
    {
        if (result is not { } r) return new CacheReply { Index = index };
        return r.Outcome switch
        {
            ApplyOutcome.Applied => new CacheReply { Index = index, KeyExisted = r.KeyExisted, SessionId = r.SessionId },
            ApplyOutcome.SessionExpired => CacheReply.Fail(CacheStatusCode.SessionExpired, "The client session is unknown or expired; the command was not applied."),
            ApplyOutcome.Rejected when r.Error == CommandValidationError.TooManyInFlight =>
                CacheReply.Fail(CacheStatusCode.Overloaded, "The client session has too many commands awaiting an answer; the command was not applied."),
            ApplyOutcome.Rejected => CacheReply.Fail(CacheStatusCode.InvalidArgument, $"The command breaks a limit ({r.Error}); it was not applied."),
            ApplyOutcome.StaleSequence => CacheReply.Fail(CacheStatusCode.OutcomeUnknown, "The command's sequence number is below the client's lowest unanswered sequence; its result is no longer known."),
            _ => CacheReply.Fail(CacheStatusCode.OutcomeUnknown, "The command's index was already applied; its result is not known."),
        };
    }

    private void RestoreSnapshot(Snapshot snapshot)
    {
        var cache = new CacheStateMachine(_options.Cache);
        if (snapshot.Data.IsEmpty)
        {
            // The group's bootstrap snapshot: a configuration and no data, before any command.
            cache.ApplyNoOp((long)snapshot.Metadata.Index);
        }
        else
        {
            var (routes, cacheData) = ReplicaSnapshot.Read(snapshot.Data);
            foreach (var (id, silo) in routes) _routes[id] = silo;
            cache.Restore(cacheData);
        }

        // Published with a volatile write: the façade reads the cache from other threads (LocalReplica).
        Volatile.Write(ref _cache, cache);
        _snapshotIndex = snapshot.Metadata.Index;
        _instruments.OnSnapshotReceived();
        LogSnapshotInstalled(_logger, snapshot.Metadata.Index, snapshot.Metadata.Term);
    }

    private void MaybeCompact()
    {
        if (_storage is null || _node is null) return;
        var applied = (ulong)_cache.AppliedIndex;
        if (applied < _snapshotIndex + (ulong)_options.SnapshotThreshold) return;
        var data = ReplicaSnapshot.Create(_routes, _cache.CreateSnapshot());
        _storage.CreateSnapshot(applied, _node.Status.ConfState, data);
        _snapshotIndex = applied;
        var retained = (ulong)_options.CompactionRetainedEntries;
        var firstIndex = _storage.FirstIndex();
        if (applied > retained && applied - retained > firstIndex)
        {
            firstIndex = applied - retained;
            _storage.Compact(firstIndex);
        }

        LogCompacted(_logger, applied, firstIndex);
    }

    private void OnSoftStateChanged(SoftState softState)
    {
        var previous = _softState;
        _softState = softState;
        if (previous.Leader != softState.Leader)
        {
            _instruments.OnLeaderChanged();
            LogLeaderChanged(_logger, _memberId, softState.Leader, _term, softState.Role);
        }

        if (previous.Role == StateRole.Leader && softState.Role != StateRole.Leader)
        {
            // Reads waiting for a read index will never be answered by this node now; let the façade retry elsewhere.
            foreach (var read in _pendingReads.Values) read.TrySetResult(0);
            _pendingReads.Clear();
        }

        if (softState.Role == StateRole.Leader)
        {
            _lastMembershipCheck = 0;
            _lastProposalTimestamp = _time.GetTimestamp();
        }

        _leaderChanged?.TrySetResult();
        _leaderChanged = null;
    }

    private void Halt(string reason, Exception exception)
    {
        _fault = reason;
        LogFault(_logger, reason, exception);
        FailAllPending("The replica stopped: " + reason);
    }

    private void FailAllPending(string message)
    {
        foreach (var pending in _pendingWrites.Values) pending.Completion.TrySetResult(CacheReply.Fail(CacheStatusCode.OutcomeUnknown, message));
        _pendingWrites.Clear();
        foreach (var read in _pendingReads.Values) read.TrySetResult(0);
        _pendingReads.Clear();
        while (_readsAwaitingApply.TryDequeue(out var read, out _)) read.TrySetResult(0);
    }

    /// <summary>Formats member ids for logs only when a log line is written.</summary>
    private readonly record struct MemberList(System.Collections.Immutable.ImmutableArray<ulong> Ids)
    {
        public override string ToString() => string.Join(",", Ids);
    }

    private sealed record PendingWrite(ulong Term, TaskCompletionSource<CacheReply> Completion, long StartedAt);

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Raft replica starting on {Silo} as member {MemberId}")]
    private static partial void LogStarting(ILogger logger, SiloAddress silo, ulong memberId);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Member {MemberId} joined Raft group {GroupId}")]
    private static partial void LogJoinedGroup(ILogger logger, ulong memberId, Guid groupId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Member {MemberId} sees leader {LeaderId} in term {Term}; own role {Role}")]
    private static partial void LogLeaderChanged(ILogger logger, ulong memberId, ulong leaderId, ulong term, StateRole role);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Configuration change at index {Index} applied: voters [{Voters}], learners [{Learners}], joint {Joint}")]
    private static partial void LogConfChangeApplied(ILogger logger, ulong index, MemberList voters, MemberList learners, bool joint);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Critical, Message = "The replica stopped: {Reason}")]
    private static partial void LogFault(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Installed snapshot at index {Index}, term {Term}")]
    private static partial void LogSnapshotInstalled(ILogger logger, ulong index, ulong term);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "Snapshot taken at index {Index}; log now starts at {FirstIndex}")]
    private static partial void LogCompacted(ILogger logger, ulong index, ulong firstIndex);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Leaving the group gracefully failed")]
    private static partial void LogLeaveFailed(ILogger logger, Exception exception);
}
