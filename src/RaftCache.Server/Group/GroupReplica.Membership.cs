using Microsoft.Extensions.Logging;
using RaftCache.Raft;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Group;

/// <summary>
/// Keeping one group's Raft configuration in step with the Orleans cluster (design §4, "Identity and membership", in
/// docs/design.md): the silos placement chooses join as learners and are promoted once caught up, dead and unchosen
/// members are removed, leadership moves to the preferred leader, and a silo that stops leaves gracefully.
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
        NoteQuorum(snapshot);
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
    /// On the leader: one membership change at a time, in order of urgency (design §4, "Groups and placement"):
    /// remove members whose silo is dead; add the silos placement chooses as learners; promote caught-up chosen
    /// learners while the group has fewer voters than configured or still has a voter placement no longer chooses;
    /// then remove members placement no longer chooses (a leader that is one of them hands over its leadership first);
    /// finally, hand leadership to the group's preferred leader, so leaders spread over the silos.
    /// </summary>
    private void ReconcileMembership()
    {
        var status = _node.Status;
        var conf = status.ConfState;
        if (conf.IsJoint || status.LeadTransferee != RaftConfig.None) return; // Finish the change in progress first.
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

        var placement = _host.PlacementOf(Id.Index);
        if (placement.Count == 0) return;
        var chosen = new HashSet<ulong>(placement.Select(MemberIds.For));
        foreach (var silo in placement)
        {
            var id = MemberIds.For(silo);
            if (members.Contains(id)) continue;
            ProposeMembershipChange(new ConfChangeSingle(ConfChangeType.AddLearnerNode, id), silo, "add learner chosen by placement");
            return;
        }

        var unchosenVoters = conf.Voters.Where(v => !chosen.Contains(v)).ToList();
        if (conf.Voters.Length < _options.Voters || unchosenVoters.Count > 0)
        {
            foreach (var learner in conf.Learners.Order())
            {
                if (!chosen.Contains(learner) || !status.Progress.TryGetValue(learner, out var progress)) continue;
                if (!_host.TryRoute(learner, out var silo) || snapshot.GetSiloStatus(silo) != SiloStatus.Active) continue;
                // Promote only a learner that is replicating normally and close to the commit index, so that the new
                // voter does not weaken the quorum while it catches up (thesis §4.2.1).
                if (progress.State != ProgressState.Replicate || !progress.RecentActive || progress.Match + (ulong)_options.PromotionMaxLag < status.HardState.Commit) continue;
                ProposeMembershipChange(new ConfChangeSingle(ConfChangeType.AddNode, learner), silo, "promote learner");
                return;
            }
        }

        // A voter that placement no longer chooses leaves once the chosen ones are voters, so the group never has
        // fewer voters than it can have.
        var chosenVoters = conf.Voters.Count(chosen.Contains);
        if (unchosenVoters.Count > 0 && chosenVoters >= Math.Min(_options.Voters, chosen.Count))
        {
            var leaving = unchosenVoters.Contains(_host.MemberId) ? _host.MemberId : unchosenVoters.Min();
            if (leaving == _host.MemberId)
            {
                TransferLeadershipTo(BestVoter(status, chosen), "leader's silo no longer chosen by placement");
                return;
            }

            ProposeMembershipChange(new ConfChangeSingle(ConfChangeType.RemoveNode, leaving), null, "remove voter placement no longer chooses");
            return;
        }

        foreach (var learner in conf.Learners.Order())
        {
            if (chosen.Contains(learner)) continue;
            ProposeMembershipChange(new ConfChangeSingle(ConfChangeType.RemoveNode, learner), null, "remove learner placement no longer chooses");
            return;
        }

        RebalanceLeadership(status);
    }

    /// <summary>
    /// Hands leadership to the group's preferred leader (<see cref="IReplicaHost.PreferredLeaderOf"/>) once this
    /// leader has held it for a while and the preferred silo's replica is a voter that has every entry, so each
    /// silo leads about its share of groups (thesis §3.10, leadership transfer). The wait keeps a leader that just won
    /// an election from handing over before the group settles.
    /// </summary>
    private void RebalanceLeadership(Status status)
    {
        if (_host.PreferredLeaderOf(Id.Index) is not { } preferred || preferred.Equals(_host.Self)) return;
        if (++_checksAsLeader < 4) return;
        var target = MemberIds.For(preferred);
        if (!status.ConfState.Voters.Contains(target) || !status.Progress.TryGetValue(target, out var progress)) return;
        if (!progress.RecentActive || progress.State != ProgressState.Replicate || progress.Match < status.LastIndex) return;
        TransferLeadershipTo(target, "balance leaders over silos");
    }

    private void TransferLeadershipTo(ulong target, string reason)
    {
        if (target == RaftConfig.None) return;
        LogTransferringLeadershipFor(_logger, Id, target, reason);
        _node.TransferLeader(target);
        _host.ScheduleFlush();
    }

    /// <summary>The most up-to-date other voter, preferring those placement chooses.</summary>
    private ulong BestVoter(Status status, HashSet<ulong>? preferred = null) => status.Progress
        .Where(p => p.Key != _host.MemberId && !p.Value.IsLearner && status.ConfState.Voters.Contains(p.Key))
        .OrderByDescending(p => preferred?.Contains(p.Key) == true).ThenByDescending(p => p.Value.Match).ThenBy(p => p.Key)
        .Select(p => p.Key).FirstOrDefault();

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
            var target = BestVoter(_node.Status);
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

    [LoggerMessage(EventId = 1205, Level = LogLevel.Information, Message = "Group {Group}: transferring leadership to member {MemberId} ({Reason})")]
    private static partial void LogTransferringLeadershipFor(ILogger logger, GroupId group, ulong memberId, string reason);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Group {Group}: transferring leadership to member {MemberId} before shutting down")]
    private static partial void LogTransferringLeadership(ILogger logger, GroupId group, ulong memberId);
}
