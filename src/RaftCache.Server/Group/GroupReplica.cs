using Microsoft.Extensions.Logging;
using RaftCache.Raft;
using RaftCache.Raft.Membership;
using RaftCache.Server.Transport;
using RaftCache.StateMachine;

namespace RaftCache.Server.Group;

/// <summary>
/// This silo's replica of one Raft group: its <see cref="RawNode"/>, its storage, its cache state machine, and the
/// requests and reads waiting on it. The silo's replica service (the host) drives it: ticks, incoming messages and
/// Ready passes.
/// </summary>
/// <remarks>
/// Called only on the host's scheduler, one call at a time, interleaved at every <c>await</c>. All work on the node is
/// therefore synchronous: a Ready is fetched, persisted, sent, applied and advanced without an <c>await</c> in between
/// (<see cref="ProcessReady"/>). Only <see cref="ReadLocal"/> and <see cref="Cache"/> are read from other threads.
/// </remarks>
internal sealed partial class GroupReplica
{
    private readonly IReplicaHost _host;
    private readonly RaftCacheOptions _options;
    private readonly ILogger _logger;
    private readonly ReplicaStorage _storage;
    private readonly RawNode _node;
    private readonly Dictionary<ulong, PendingWrite> _pendingWrites = [];
    private readonly Dictionary<ulong, TaskCompletionSource<ulong>> _pendingReads = [];
    private readonly PriorityQueue<TaskCompletionSource<ulong>, ulong> _readsAwaitingApply = new();
    private readonly List<ulong> _unreachable = [];
    private readonly List<(ulong To, bool Success)> _pendingSnapshotReports = [];
    private readonly TickClock _clock;

    private CacheStateMachine _cache;
    private SoftState _softState;
    private ulong _term;
    private ulong _nextReadId;
    private long _lastProposalTimestamp;
    private long _lastMembershipCheck;
    private string? _fault;
    private SiloAddress? _leaderSilo;
    private TaskCompletionSource? _leaderChanged;
    private long _leaderChanges;
    private int _checksAsLeader;
    private bool _wasMember;

    // Internal, not private, so that tests can build a group of several voters without a cluster.
    internal GroupReplica(IReplicaHost host, GroupId id, MemStorage log, CacheStateMachine cache, ILogger logger)
    {
        _host = host;
        _options = host.Options;
        _logger = logger;
        Id = id;
        _cache = cache;
        _storage = new ReplicaStorage(log, TakeSnapshot);
        var config = new RaftConfig
        {
            Id = host.MemberId,
            ElectionTick = _options.ElectionTicks,
            HeartbeatTick = _options.HeartbeatTicks,
            LeaseSafetyMarginTicks = _options.LeaseSafetyMarginTicks,
            MaxSizePerMsg = _options.MaxSizePerMessage,
            MaxInflightMsgs = _options.MaxInflightMessages,
            PreVote = true,
            CheckQuorum = true,
            // Proposals are made on the leader only, which needs the entry's (term, index) to track the outcome.
            DisableProposalForwarding = true,
            Applied = (ulong)cache.AppliedIndex,
            Random = new Random(unchecked((int)host.MemberId ^ (id.Index * 7919) ^ Environment.TickCount)),
        };
        _node = new RawNode(config, _storage);
        // Two election timeouts: the longest timer of the core (a randomized election timeout, or check-quorum's window
        // passed twice without a quorum). A longer pause looks the same to every timer, and costs no more Tick calls.
        _clock = new TickClock(host.Time, _options.TickInterval, 2 * _options.ElectionTicks);
        _softState = new SoftState(RaftConfig.None, StateRole.Follower);
        _lastProposalTimestamp = host.Time.GetTimestamp();
        CreatedAt = _lastProposalTimestamp;
        LogJoinedGroup(_logger, host.MemberId, id);
    }

    /// <summary>
    /// The replica of a brand-new group whose only voter is this silo: the configuration is recorded as a snapshot with
    /// no data at <see cref="MemStorage.BootstrapIndex"/>, where the empty cache starts too. It campaigns at once.
    /// </summary>
    public static GroupReplica Bootstrap(IReplicaHost host, GroupId id, ILogger logger)
    {
        var cache = new CacheStateMachine(host.Options.Cache);
        cache.ApplyNoOp((long)MemStorage.BootstrapIndex);
        var storage = MemStorage.CreateBootstrapped(new ConfState { Voters = [host.MemberId] });
        // A group formed anew by recovery starts its terms at its epoch, as every epoch does: its campaign is in term
        // epoch, and no entry of its own is taken for the old history (design §4, "Quorum-loss recovery").
        if (id.Epoch > MemStorage.BootstrapTerm) storage.SetHardState(new HardState(id.Epoch - 1, RaftConfig.None, MemStorage.BootstrapIndex));
        var replica = new GroupReplica(host, id, storage, cache, logger);
        replica._node.Campaign();
        return replica;
    }

    /// <summary>The replica of an existing group that this silo joins: empty, waiting for the leader's log or snapshot.</summary>
    public static GroupReplica Join(IReplicaHost host, GroupId id, ILogger logger) =>
        new(host, id, new MemStorage(), new CacheStateMachine(host.Options.Cache), logger);

    /// <summary>The group.</summary>
    public GroupId Id { get; }

    /// <summary>The cache state; published with a volatile write, because the façade reads it from other threads.</summary>
    public CacheStateMachine Cache => Volatile.Read(ref _cache);

    /// <summary>Whether this replica leads its group now.</summary>
    public bool IsLeader => _softState.Role == StateRole.Leader;

    /// <summary>The leader this replica knows, or <see cref="RaftConfig.None"/>.</summary>
    public ulong Leader => _softState.Leader;

    /// <summary>The silo of the leader this replica knows, or null; safe from any thread.</summary>
    public SiloAddress? LeaderSilo => Volatile.Read(ref _leaderSilo);

    /// <summary>The reason the replica stopped, or null while healthy.</summary>
    public string? Fault => Volatile.Read(ref _fault);

    /// <summary>The node's status (on the leader, with every member's progress).</summary>
    public Status Status => _node.Status;

    /// <summary>When this replica was created (a <see cref="TimeProvider"/> timestamp).</summary>
    public long CreatedAt { get; }

    /// <summary>
    /// Whether this replica was a member and has since applied a configuration without it, or its group's leader said
    /// it is not a member: its group never contacts it again, so the host drops it.
    /// </summary>
    public bool WasRemoved { get; private set; }

    /// <summary>
    /// The host's timer: the Raft ticks that elapsed time warrants (one usually, more after a late callback); on the
    /// leader also the periodic duties (time entries, membership).
    /// </summary>
    public void OnTimer()
    {
        if (_fault is not null) return;
        if (Fenced)
        {
            ReleaseExpiredFence();
            if (Fenced) return;
        }

        CatchUpTicks();
        if (!IsLeader || _host.Stopping) return;
        MaybeProposeTimeEntry();
        var now = _host.Time.GetTimestamp();
        if (_host.Time.GetElapsedTime(_lastMembershipCheck, now) >= _options.MembershipCheckInterval)
        {
            _lastMembershipCheck = now;
            ReconcileMembership();
        }
    }

    /// <summary>
    /// Runs the ticks owed for the time elapsed since the last ones (<see cref="TickClock"/>); true if any ran. Called
    /// by the timer, and before the lease is consulted: a callback comes late after a freeze, and a lease read processed
    /// before it would otherwise be judged by the tick count of before the freeze (thesis §6.4.1 bounds clock rates,
    /// not pauses).
    /// </summary>
    private bool CatchUpTicks()
    {
        var due = _clock.TakeDue();
        for (var i = 0; i < due; i++) _node.Tick();
        return due > 0;
    }

    /// <summary>Steps messages that member <paramref name="from"/> sent to this replica.</summary>
    public void Step(ulong from, IReadOnlyList<Message> messages)
    {
        if (_fault is not null || Fenced) return;
        foreach (var message in messages)
        {
            // Only peer-to-peer message types may arrive over the wire; local ones would be a forged or corrupt batch.
            if (message.Type is MessageType.Hup or MessageType.Beat or MessageType.Unreachable or MessageType.SnapshotStatus or MessageType.CheckQuorum) continue;
            if (message.To != _host.MemberId || message.From != from) continue;
            // A lease read a follower forwarded (it took itself for the leader a moment too long) is answered from this
            // node's lease: bring the ticks up to date first, as for a lease read of our own.
            if (message is { Type: MessageType.ReadIndex, ReadMode: ReadMode.LeaseBased }) CatchUpTicks();
            // The leader's commit index as announced, which may be past this replica's log: what recovery reports as
            // the last known commit if the group loses its quorum.
            if (message.Type is MessageType.Append or MessageType.Heartbeat && message.Commit > _leaderCommitSeen) _leaderCommitSeen = message.Commit;
            try
            {
                _node.Step(message);
            }
            catch (MalformedMessageException e)
            {
                // Bad input from a peer is dropped, never taken for corruption of this replica.
                LogMalformedMessage(_logger, Id, from, e.Message);
            }
        }
    }

    /// <summary>
    /// Handles everything the node has ready, in the order the Ready contract requires: persist, send, apply,
    /// advance. Synchronous on purpose: an <c>await</c> here would let another call step the node mid-Ready.
    /// </summary>
    public void ProcessReady()
    {
        if (_fault is not null) return;
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
            ReleaseUnusedSnapshots();
            MaybeCompact();
            NoteMembership();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A broken invariant or storage failure leaves the node in an unknown state: stop rather than guess.
            Halt($"Processing a Raft Ready failed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>Whether the configuration this replica applied names <paramref name="memberId"/>.</summary>
    public bool HasMember(ulong memberId)
    {
        var conf = _storage.Log.ConfState;
        return conf.Voters.Contains(memberId) || conf.Learners.Contains(memberId) || conf.VotersOutgoing.Contains(memberId) || conf.LearnersNext.Contains(memberId);
    }

    /// <summary>The group's leader said this replica is not in its configuration: the host drops it.</summary>
    public void NoteRemovedByLeader() => WasRemoved = true;

    private void NoteMembership()
    {
        if (HasMember(_host.MemberId)) _wasMember = true;
        else if (_wasMember) WasRemoved = true;
    }

    /// <summary>
    /// Releases the snapshot views (which make applies copy while they live) and partly received snapshots, and
    /// answers everything still waiting on the replica, once the host drops it.
    /// </summary>
    public void Dispose()
    {
        FailAllPending("This silo's replica left the group; ask the group's leader.");
        foreach (var source in _snapshotSources) source.Dispose();
        _snapshotSources.Clear();
        _incomingSnapshots.Clear();
        _restored = null;
    }

    /// <summary>Whether the node has work for <see cref="ProcessReady"/>.</summary>
    public bool HasReady => _fault is null && !Fenced && (_node.HasReady || _unreachable.Count > 0 || _pendingSnapshotReports.Count > 0);

    /// <summary>Tells the node that a member's silo is unreachable (a failed send, or declared dead); reported after the next Ready.</summary>
    public void ReportUnreachable(ulong memberId)
    {
        _unreachable.Add(memberId);
        _host.ScheduleFlush();
    }

    /// <summary>Handles Readies until none is left; true if unreachable peers or snapshot outcomes wait to be reported.</summary>
    private bool HandleReadies()
    {
        var storage = _storage.Log;
        while (_fault is null && _node.HasReady)
        {
            var ready = _node.GetReady();
            if (ready.Snapshot is { IsEmpty: false } snapshot) storage.ApplySnapshot(snapshot);
            if (!ready.Entries.IsEmpty) storage.Append(ready.Entries);
            if (ready.HardState is { } hardState)
            {
                storage.SetHardState(hardState);
                _term = hardState.Term;
            }

            Send(ready.Messages);

            if (ready.Snapshot is { IsEmpty: false } installed) InstallReceivedSnapshot(installed);
            foreach (var entry in ready.CommittedEntries)
            {
                Apply(entry);
                if (_fault is not null) return false;
            }

            foreach (var readState in ready.ReadStates) OnReadState(readState);
            _node.Advance(ready);
            if (ready.SoftState is { } softState) OnSoftStateChanged(softState);
        }

        return _fault is null && (_unreachable.Count > 0 || _pendingSnapshotReports.Count > 0);
    }

    /// <summary>Queues the messages of one Ready: one batch per peer, snapshots as streamed transfers.</summary>
    private void Send(IReadOnlyList<Message> messages)
    {
        if (messages.Count == 0) return;
        // Group per peer, keeping each peer's messages in the order the node produced them.
        Dictionary<ulong, List<Message>>? perPeer = null;
        foreach (var message in messages)
        {
            if (message.Type == MessageType.InstallSnapshot)
            {
                StartSnapshotTransfer(message);
                continue;
            }

            perPeer ??= [];
            if (!perPeer.TryGetValue(message.To, out var list)) perPeer[message.To] = list = [];
            list.Add(message);
        }

        if (perPeer is null) return;
        foreach (var (to, batch) in perPeer)
        {
            if (!_host.TryRoute(to, out var silo))
            {
                _unreachable.Add(to);
                continue;
            }

            _host.Instruments.OnMessagesSent(batch.Count);
            _host.Send(silo, Id, to, batch);
        }
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

            ApplyResult result;
            var applying = StartApplySpan(entry);
            try
            {
                result = _cache.Apply((long)entry.Index, entry.Data);
            }
            finally
            {
                ServerTracing.Stop(applying);
            }

            CompleteWrite(entry, result);
        }
        catch (Exception e) when (e is CommandDecodeException or StateMachineFaultedException or FormatException or InvalidConfChangeException)
        {
            // Design §3 (docs/design.md): a committed entry that cannot be applied halts the replica; it is never skipped.
            Halt($"Entry {entry.Index} (term {entry.Term}) could not be applied: {e.Message}", e);
        }
    }

    /// <summary>The span of applying a write this replica proposed and traces, a child of its propose span; else null.</summary>
    private System.Diagnostics.Activity? StartApplySpan(Entry entry) =>
        CacheTracing.Source.HasListeners() && _pendingWrites.TryGetValue(entry.Index, out var pending) && pending.Term == entry.Term && pending.Batch.Spans?[pending.Slot] is { } propose
            ? ServerTracing.StartApply(propose, entry.Index)
            : null;

    private void ApplyConfChange(Entry entry)
    {
        if (entry.Term < Id.Epoch)
        {
            // A change of the history before a quorum-loss recovery: the recovery set the configuration of this epoch,
            // and members of the old one may be dead for good (design §4, "Quorum-loss recovery").
            _cache.ApplyNoOp((long)entry.Index);
            CompleteWrite(entry, null);
            return;
        }

        var change = ConfChangeCodec.Decode(entry.Data.Span);
        foreach (var (id, silo) in MemberContext.Decode(change.Context)) _host.LearnRoute(id, silo);
        var confState = _node.ApplyConfChange(change);
        _storage.Log.SetConfState(confState);
        _cache.ApplyNoOp((long)entry.Index);
        LogConfChangeApplied(_logger, Id, entry.Index, new MemberList(confState.Voters), new MemberList(confState.Learners), confState.IsJoint);
        CompleteWrite(entry, null);
    }

    private void CompleteWrite(Entry entry, ApplyResult? result)
    {
        if (!_pendingWrites.Remove(entry.Index, out var pending)) return;
        if (pending.Term != entry.Term)
        {
            // Another leader's entry took this index: ours was never committed (Raft §5.3 log matching).
            pending.Batch.Complete(pending.Slot, CacheReply.Fail(CacheStatusCode.NotApplied, "A different entry was committed at the proposal's index."));
            return;
        }

        _host.Instruments.OnProposalApplied(_host.Time.GetElapsedTime(pending.StartedAt));
        pending.Batch.Complete(pending.Slot, ToReply(entry.Index, result));
    }

    private static CacheReply ToReply(ulong index, ApplyResult? result)
    {
        if (result is not { } r) return new CacheReply { Index = index };
        return r.Outcome switch
        {
            ApplyOutcome.Applied => new CacheReply { Index = index, KeyExisted = r.KeyExisted, SessionId = r.SessionId, Version = r.Version, Number = r.Number },
            ApplyOutcome.ConditionFailed => new CacheReply
            {
                Status = CacheStatusCode.ConditionFailed, Index = index, KeyExisted = r.KeyExisted, Version = r.Version,
                Message = r.KeyExisted ? $"The key is at version {r.Version}." : "The key is absent.",
            },
            ApplyOutcome.NotAnInteger => new CacheReply
            {
                Status = CacheStatusCode.NotAnInteger, Index = index, KeyExisted = true, Version = r.Version,
                Message = "The key's value is not a decimal 64-bit integer; it was not changed.",
            },
            ApplyOutcome.Overflow => new CacheReply
            {
                Status = CacheStatusCode.Overflow, Index = index, KeyExisted = r.KeyExisted, Version = r.Version, Number = r.Number,
                Message = $"Adding to {r.Number} would overflow a 64-bit integer; the value was not changed.",
            },
            ApplyOutcome.SessionExpired => CacheReply.Fail(CacheStatusCode.SessionExpired, "The client session is unknown or expired; the command was not applied."),
            ApplyOutcome.Rejected when r.Error == CommandValidationError.TooManyInFlight =>
                CacheReply.Fail(CacheStatusCode.Overloaded, "The client session has too many commands awaiting an answer; the command was not applied."),
            ApplyOutcome.Rejected => CacheReply.Fail(CacheStatusCode.InvalidArgument, $"The command breaks a limit ({r.Error}); it was not applied."),
            ApplyOutcome.StaleSequence => CacheReply.Fail(CacheStatusCode.OutcomeUnknown, "The command's sequence number is below the client's lowest unanswered sequence; its result is no longer known."),
            _ => CacheReply.Fail(CacheStatusCode.OutcomeUnknown, "The command's index was already applied; its result is not known."),
        };
    }

    private void OnSoftStateChanged(SoftState softState)
    {
        var previous = _softState;
        _softState = softState;
        if (previous.Leader != softState.Leader)
        {
            Volatile.Write(ref _leaderSilo, softState.Leader != RaftConfig.None && _host.TryRoute(softState.Leader, out var silo) ? silo : null);
            _host.Instruments.OnLeaderChanged();
            _leaderChanges++;
            LogLeaderChanged(_logger, Id, _host.MemberId, softState.Leader, _term, softState.Role);
        }

        if (previous.Leader != softState.Leader || (previous.Role == StateRole.Leader && softState.Role != StateRole.Leader))
        {
            // Read-index requests are answered by the leader that took them (here, or the one a follower forwarded them
            // to): after a change they may never be answered. Let the façade retry them.
            foreach (var read in _pendingReads.Values) read.TrySetResult(0);
            _pendingReads.Clear();
        }

        if (softState.Role == StateRole.Leader)
        {
            _checksAsLeader = 0;
            _lastMembershipCheck = 0;
            _lastProposalTimestamp = _host.Time.GetTimestamp();
        }

        _leaderChanged?.TrySetResult();
        _leaderChanged = null;
    }

    private void Halt(string reason, Exception exception)
    {
        Volatile.Write(ref _fault, reason);
        LogFault(_logger, Id, reason, exception);
        FailAllPending("The replica stopped: " + reason);
    }

    private void FailAllPending(string message)
    {
        foreach (var pending in _pendingWrites.Values) pending.Batch.Complete(pending.Slot, CacheReply.Fail(CacheStatusCode.OutcomeUnknown, message));
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

    private readonly record struct PendingWrite(ulong Term, WriteBatch Batch, int Slot, long StartedAt);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Member {MemberId} joined Raft group {Group}")]
    private static partial void LogJoinedGroup(ILogger logger, ulong memberId, GroupId group);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Group {Group}: member {MemberId} sees leader {LeaderId} in term {Term}; own role {Role}")]
    private static partial void LogLeaderChanged(ILogger logger, GroupId group, ulong memberId, ulong leaderId, ulong term, StateRole role);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Group {Group}: configuration change at index {Index} applied: voters [{Voters}], learners [{Learners}], joint {Joint}")]
    private static partial void LogConfChangeApplied(ILogger logger, GroupId group, ulong index, MemberList voters, MemberList learners, bool joint);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Critical, Message = "Group {Group}: the replica stopped: {Reason}")]
    private static partial void LogFault(ILogger logger, GroupId group, string reason, Exception exception);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Group {Group}: dropped a malformed message from member {MemberId}: {Reason}")]
    private static partial void LogMalformedMessage(ILogger logger, GroupId group, ulong memberId, string reason);
}
