using Microsoft.Extensions.Logging;
using RaftCache.Server.Group;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>
/// Quorum-loss recovery on this silo (design §4, "Quorum-loss recovery", in docs/design.md): the calls through which a
/// recovery fences and re-forms this silo's replicas, and the automatic policy.
/// </summary>
internal sealed partial class RaftHostService
{
    private readonly HashSet<int> _recovering = [];

    public Task<RecoveryState?> GetRecoveryState(Guid layout, int index) =>
        Task.FromResult(_layout?.Id == layout && _groups.TryGetValue(index, out var replica) ? replica.GetRecoveryState() : null);

    public Task<RecoveryState?> FenceForRecovery(GroupId group, Guid recoveryId, TimeSpan hold) =>
        Task.FromResult(Stopping ? null : ReplicaOf(group)?.Fence(recoveryId, hold));

    public Task ReleaseFence(GroupId group, Guid recoveryId)
    {
        ReplicaOf(group)?.ReleaseFence(recoveryId);
        return Task.CompletedTask;
    }

    public Task<bool> CompleteRecovery(RecoveryPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (ReplicaOf(plan.Group) is not { } replica || !replica.IsFencedBy(plan.RecoveryId) || plan.Epoch <= plan.Group.Epoch) return Task.FromResult(false);
        var recovered = GroupReplica.Recover(replica, plan);
        _groups[recovered.Id.Index] = recovered;
        Publish();
        Flush();
        return Task.FromResult(true);
    }

    public Task<bool> FormGroupAnew(GroupId group)
    {
        if (_layout is not { } layout || group.Layout != layout.Id || group.Index < 0 || group.Index >= layout.Groups || Stopping) return Task.FromResult(false);
        if (_groups.TryGetValue(group.Index, out var existing))
        {
            if (existing.Id.Epoch >= group.Epoch) return Task.FromResult(false);
            DropForNewerEpoch(existing, group.Epoch);
        }

        LogFormingAnew(_logger, group);
        AddGroup(GroupReplica.Bootstrap(this, group, _loggerFactory.CreateLogger<GroupReplica>()));
        Flush();
        return Task.FromResult(true);
    }

    /// <summary>
    /// Under <see cref="QuorumLossRecoveryMode.Automatic"/>: a group whose voters have been mostly on dead silos for
    /// <see cref="RaftCacheOptions.QuorumLossRecoveryAfter"/> is recovered by one of its survivors, the one with the
    /// lowest member id among the live members, so that survivors do not all start a run at once (two runs at once are
    /// still safe: a survivor fenced by one run refuses the other, which then lifts its fences).
    /// </summary>
    private void RecoverLostGroups()
    {
        if (Options.QuorumLossRecovery != QuorumLossRecoveryMode.Automatic || _layout is not { } layout || Stopping) return;
        var membership = Membership;
        foreach (var (index, replica) in _groups)
        {
            replica.NoteQuorum(membership);
            if (replica.QuorumLostSince == 0 || replica.Fenced || _recovering.Contains(index)) continue;
            if (Time.GetElapsedTime(replica.QuorumLostSince) < Options.QuorumLossRecoveryAfter) continue;
            var state = replica.GetRecoveryState();
            var live = state.Voters.Concat(state.VotersOutgoing).Concat(state.Learners)
                .Where(m => m == MemberId || (TryRoute(m, out var silo) && membership.GetSiloStatus(silo) is SiloStatus.Active))
                .DefaultIfEmpty(MemberId).Min();
            if (live != MemberId) continue;
            _recovering.Add(index);
            _ = RecoverAutomaticallyAsync(layout, index);
        }
    }

    private async Task RecoverAutomaticallyAsync(ClusterLayout layout, int index)
    {
        try
        {
            LogAutomaticRecovery(_logger, index, Options.QuorumLossRecoveryAfter);
            var report = (await _recovery.RunAsync(layout, index, confirm: true))[0];
            LogAutomaticRecoveryDone(_logger, index, report.Outcome, report.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogAutomaticRecoveryFailed(_logger, index, e);
        }
        finally
        {
            _recovering.Remove(index);
        }
    }

    [LoggerMessage(EventId = 1323, Level = LogLevel.Warning, Message = "Group {Group}: no replica survived; forming the group anew, empty, with this silo as its only voter")]
    private static partial void LogFormingAnew(ILogger logger, GroupId group);

    [LoggerMessage(EventId = 1320, Level = LogLevel.Warning, Message = "Group {Group}: a majority of its voters has been on dead silos for {After}; recovering it automatically (RaftCache:QuorumLossRecovery is Automatic)")]
    private static partial void LogAutomaticRecovery(ILogger logger, int group, TimeSpan after);

    [LoggerMessage(EventId = 1321, Level = LogLevel.Warning, Message = "Group {Group}: automatic recovery: {Outcome}: {Message}")]
    private static partial void LogAutomaticRecoveryDone(ILogger logger, int group, RecoveryOutcome outcome, string message);

    [LoggerMessage(EventId = 1322, Level = LogLevel.Error, Message = "Group {Group}: automatic recovery failed")]
    private static partial void LogAutomaticRecoveryFailed(ILogger logger, int group, Exception exception);
}
