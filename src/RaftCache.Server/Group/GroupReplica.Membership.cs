using Microsoft.Extensions.Logging;
using RaftCache.Raft;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Group;

/// <summary>
/// Keeping one group's Raft configuration in step with the Orleans cluster (design §4, "Identity and membership", in
/// docs/design.md): learners for new silos, promotion up to the configured voter count, removal of dead silos, and a
/// graceful leave.
/// </summary>
internal sealed partial class GroupReplica
{
    /// <summary>
    /// Tells the node of members whose silo Orleans declared dead: a one-way call to a dead silo never fails at the
    /// sender, so membership is how Raft learns of it. The leader then reconciles.
    /// </summary>
    public void OnMembershipChanged(ClusterMembershipSnapshot snapshot)
    {
        if (_fault is not null) return;
        var conf = _node.Status.ConfState;
        foreach (var member in snapshot.Members.Values)
        {
            if (member.Status != SiloStatus.Dead) continue;
            var id = MemberIds.For(member.SiloAddress);
            if (id != _host.MemberId && (conf.Voters.Contains(id) || conf.Learners.Contains(id) || conf.VotersOutgoing.Contains(id)))
                _unreachable.Add(id);
        }

        if (IsLeader && !_host.Stopping) ReconcileMembership();
        _host.ScheduleFlush();
    }

    /// <summary>
    /// On the leader: one membership change at a time, in order of urgency: remove members whose silo is dead, add
    /// new silos as learners, promote caught-up learners while there are fewer voters than configured.
    /// </summary>
    private void ReconcileMembership()
    {
        var status = _node.Status;
        var conf = status.ConfState;
        if (conf.IsJoint) return; // Auto-leave finishes the change in progress first.
        var snapshot = _host.Membership;
        var members = conf.Voters.Concat(conf.Learners).ToHashSet();

        foreach (var id in members.Order())
        {
            if (id == _host.MemberId) continue;
            if (_host.TryRoute(id, out var silo) && snapshot.GetSiloStatus(silo) == SiloStatus.Dead)
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
            if (!_host.TryRoute(learner, out var silo) || snapshot.GetSiloStatus(silo) != SiloStatus.Active) continue;
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
        var result = _node.ProposeConfChange(new ConfChange { Changes = [change], Context = context });
        if (result.IsAccepted) LogMembershipChangeProposed(_logger, Id, reason, change.NodeId, result.Id.Index);
        _host.ScheduleFlush();
    }

    /// <summary>
    /// On graceful shutdown: hand leadership to the most up-to-date voter (thesis §3.10), then ask the leader to
    /// remove this member, so the group neither waits for an election timeout nor keeps a dead voter.
    /// </summary>
    public async Task LeaveGracefullyAsync()
    {
        if (_fault is not null) return;
        var time = _host.Time;
        var deadline = time.GetTimestamp();
        var budget = _options.TickInterval * _options.ElectionTicks * 2;
        if (IsLeader)
        {
            var status = _node.Status;
            var target = status.Progress
                .Where(p => p.Key != _host.MemberId && !p.Value.IsLearner)
                .OrderByDescending(p => p.Value.Match).ThenBy(p => p.Key)
                .Select(p => p.Key).FirstOrDefault();
            if (target == RaftConfig.None) return; // The last voter: nothing to hand over to.
            LogTransferringLeadership(_logger, Id, target);
            _node.TransferLeader(target);
            _host.ScheduleFlush();
            while (IsLeader && time.GetElapsedTime(deadline) < budget)
            {
                _leaderChanged ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                try
                {
                    await _leaderChanged.Task.WaitAsync(_options.TickInterval, time);
                }
                catch (TimeoutException)
                {
                    // Check again; the ticker keeps the node running meanwhile.
                }
            }
        }

        while (time.GetElapsedTime(deadline) < budget)
        {
            var leader = _softState.Leader;
            if (leader != RaftConfig.None && leader != _host.MemberId && _host.TryRoute(leader, out var silo))
            {
                var reply = await _host.Peers.For(silo).RequestRemoval(Id, _host.MemberId, _options.RequestTimeout).WaitAsync(budget, time);
                if (reply.Status == CacheStatusCode.Ok) return;
            }

            await Task.Delay(_options.TickInterval, time);
        }
    }

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Group {Group}: proposed membership change ({Reason}) for member {MemberId} at index {Index}")]
    private static partial void LogMembershipChangeProposed(ILogger logger, GroupId group, string reason, ulong memberId, ulong index);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Group {Group}: transferring leadership to member {MemberId} before shutting down")]
    private static partial void LogTransferringLeadership(ILogger logger, GroupId group, ulong memberId);
}
