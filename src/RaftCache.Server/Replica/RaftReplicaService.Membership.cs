using Microsoft.Extensions.Logging;
using RaftCache.Raft;

namespace RaftCache.Server.Replica;

/// <summary>
/// Keeping the Raft group in step with the Orleans cluster (design §4, "Identity and membership" and "Bootstrap", in docs/design.md): bootstrap of a
/// single group, learners for new silos, promotion up to the configured voter count, removal of dead silos, and a
/// graceful leave.
/// </summary>
internal sealed partial class RaftReplicaService
{
    private ClusterMembershipSnapshot? _lastMembership;
    private long _membershipChangedAt;
    private bool _bootstrapping;

    private async Task WatchMembershipAsync()
    {
        _membershipChangedAt = _time.GetTimestamp();
        try
        {
            await foreach (var snapshot in _membership.MembershipUpdates.WithCancellation(StoppedCancellationTokenSource.Token))
            {
                OnMembershipChanged(snapshot);
            }
        }
        catch (OperationCanceledException)
        {
            // The silo is stopping.
        }
    }

    private void OnMembershipChanged(ClusterMembershipSnapshot snapshot)
    {
        var previous = _lastMembership;
        _lastMembership = snapshot;
        if (previous is null || !previous.ActiveSilos().SequenceEqual(snapshot.ActiveSilos())) _membershipChangedAt = _time.GetTimestamp();
        if (_node is null) return;
        foreach (var member in snapshot.Members.Values)
        {
            if (member.Status != SiloStatus.Dead) continue;
            // A one-way call to a dead silo never fails at the sender, so membership is how Raft learns of it.
            var id = MemberIds.For(member.SiloAddress);
            if (id != _memberId && _node.Status.ConfState is var conf && (conf.Voters.Contains(id) || conf.Learners.Contains(id) || conf.VotersOutgoing.Contains(id)))
                _node.ReportUnreachable(id);
        }

        ProcessReady();
        if (IsLeader && !_stopping) ReconcileMembership();
    }

    /// <summary>
    /// Creates the group if this silo is the oldest active one, the membership view has been stable for a while, and
    /// no live replica reports a group already. Every other silo waits to be added by the leader. The stability wait
    /// covers silos that start together: each must see the others before the oldest may decide alone.
    /// </summary>
    private async Task TryBootstrapAsync()
    {
        if (_bootstrapping || _node is not null) return;
        _bootstrapping = true;
        try
        {
            var snapshot = _membership.CurrentSnapshot;
            var active = snapshot.ActiveSilos();
            if (!active.Contains(_self)) return;
            if (_time.GetElapsedTime(_membershipChangedAt) < _options.BootstrapStableFor) return;
            var oldest = active.OrderBy(s => s.Generation).ThenBy(s => s.ToParsableString(), StringComparer.Ordinal).First();
            if (!oldest.Equals(_self)) return;

            foreach (var silo in active)
            {
                if (silo.Equals(_self)) continue;
                using var cancellation = new CancellationTokenSource(_options.RequestTimeout);
                var group = await _peers.For(silo).GetGroup().WaitAsync(cancellation.Token);
                if (group != Guid.Empty) return;
            }

            if (_node is not null || _stopping || !_membership.CurrentSnapshot.ActiveSilos().SequenceEqual(active)) return;
            var groupId = Guid.NewGuid();
            LogBootstrapping(_logger, groupId, _memberId);
            var storage = MemStorage.CreateBootstrapped(new ConfState { Voters = [_memberId] });
            // The bootstrap configuration is a snapshot with no data at MemStorage.BootstrapIndex: start the cache there.
            _cache.ApplyNoOp((long)MemStorage.BootstrapIndex);
            CreateNode(groupId, storage);
            _node!.Campaign();
            ProcessReady();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A silo that cannot answer may hold a group: try again on a later tick.
            LogBootstrapDeferred(_logger, e.Message);
        }
        finally
        {
            _bootstrapping = false;
        }
    }

    /// <summary>
    /// On the leader: one membership change at a time, in order of urgency: remove members whose silo is dead, add
    /// new silos as learners, promote caught-up learners while there are fewer voters than configured.
    /// </summary>
    private void ReconcileMembership()
    {
        var node = _node!;
        var status = node.Status;
        var conf = status.ConfState;
        if (conf.IsJoint) return; // Auto-leave finishes the change in progress first.
        var snapshot = _membership.CurrentSnapshot;
        var members = conf.Voters.Concat(conf.Learners).ToHashSet();

        foreach (var id in members.Order())
        {
            if (id == _memberId) continue;
            if (TryRoute(id, out var silo) && snapshot.GetSiloStatus(silo) == SiloStatus.Dead)
            {
                ProposeMembershipChange(new ConfChangeSingle(ConfChangeType.RemoveNode, id), null, "remove dead member");
                return;
            }
        }

        foreach (var silo in snapshot.ActiveSilos())
        {
            var id = MemberIds.For(silo);
            if (members.Contains(id)) continue;
            ProposeMembershipChange(new ConfChangeSingle(ConfChangeType.AddLearnerNode, id), silo, "add learner");
            return;
        }

        if (conf.Voters.Length >= _options.Voters) return;
        foreach (var learner in conf.Learners.Order())
        {
            if (!status.Progress.TryGetValue(learner, out var progress)) continue;
            if (!TryRoute(learner, out var silo) || snapshot.GetSiloStatus(silo) != SiloStatus.Active) continue;
            // Promote only a learner that is replicating normally and close to the commit index, so that the new
            // voter does not weaken the quorum while it catches up (thesis §4.2.1).
            if (progress.State != ProgressState.Replicate || !progress.RecentActive || progress.Match + (ulong)_options.PromotionMaxLag < status.HardState.Commit) continue;
            ProposeMembershipChange(new ConfChangeSingle(ConfChangeType.AddNode, learner), silo, "promote learner");
            return;
        }
    }

    private void ProposeMembershipChange(ConfChangeSingle change, SiloAddress? silo, string reason)
    {
        var context = silo is null ? ReadOnlyMemory<byte>.Empty : MemberContext.Encode([(change.NodeId, silo)]);
        var result = _node!.ProposeConfChange(new ConfChange { Changes = [change], Context = context });
        if (result.IsAccepted) LogMembershipChangeProposed(_logger, reason, change.NodeId, result.Id.Index);
        ProcessReady();
    }

    /// <summary>
    /// On graceful shutdown: hand leadership to the most up-to-date voter (thesis §3.10), then ask the leader to
    /// remove this member, so the group neither waits for an election timeout nor keeps a dead voter.
    /// </summary>
    private async Task LeaveGracefullyAsync()
    {
        if (_node is null || _fault is not null) return;
        var deadline = _time.GetTimestamp();
        var budget = _options.TickInterval * _options.ElectionTicks * 2;
        if (IsLeader)
        {
            var status = _node.Status;
            var target = status.Progress
                .Where(p => p.Key != _memberId && !p.Value.IsLearner)
                .OrderByDescending(p => p.Value.Match).ThenBy(p => p.Key)
                .Select(p => p.Key).FirstOrDefault();
            if (target == RaftConfig.None) return; // The last voter: nothing to hand over to.
            LogTransferringLeadership(_logger, target);
            _node.TransferLeader(target);
            ProcessReady();
            while (IsLeader && _time.GetElapsedTime(deadline) < budget)
            {
                _leaderChanged ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                try
                {
                    await _leaderChanged.Task.WaitAsync(_options.TickInterval, _time);
                }
                catch (TimeoutException)
                {
                    // Check again; the ticker keeps the node running meanwhile.
                }
            }
        }

        while (_time.GetElapsedTime(deadline) < budget)
        {
            var leader = _softState.Leader;
            if (leader != RaftConfig.None && leader != _memberId && TryRoute(leader, out var silo))
            {
                var reply = await _peers.For(silo).RequestRemoval(_memberId, _options.RequestTimeout).WaitAsync(budget, _time);
                if (reply.Status == CacheStatusCode.Ok) return;
            }

            await Task.Delay(_options.TickInterval, _time);
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Bootstrapping a new Raft group {GroupId} with member {MemberId} as its only voter")]
    private static partial void LogBootstrapping(ILogger logger, Guid groupId, ulong memberId);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Bootstrap deferred: {Reason}")]
    private static partial void LogBootstrapDeferred(ILogger logger, string reason);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Proposed membership change ({Reason}) for member {MemberId} at index {Index}")]
    private static partial void LogMembershipChangeProposed(ILogger logger, string reason, ulong memberId, ulong index);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Transferring leadership to member {MemberId} before shutting down")]
    private static partial void LogTransferringLeadership(ILogger logger, ulong memberId);
}
