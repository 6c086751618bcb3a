using Microsoft.Extensions.Logging;
using RaftCache.Raft;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Group;

/// <summary>
/// Quorum-loss recovery on one replica (design §4, "Quorum-loss recovery", in docs/design.md): reporting its state,
/// being fenced while a recovery decides, and being re-formed in the recovered group's epoch.
/// </summary>
internal sealed partial class GroupReplica
{
    private Guid _fencedFor;
    private long _fencedUntil;
    private ulong _leaderCommitSeen;

    /// <summary>Whether a recovery holds this replica fenced: it steps no message, runs no tick and serves nothing.</summary>
    public bool Fenced => _fencedFor != Guid.Empty;

    /// <summary>Since when no majority of this replica's voters is on live silos (a timestamp), or 0 while one is.</summary>
    public long QuorumLostSince { get; private set; }

    /// <summary>This replica's state as recovery needs it, from what it persisted.</summary>
    public RecoveryState GetRecoveryState()
    {
        var log = _storage.Log;
        var conf = log.ConfState;
        var last = log.LastIndex();
        return new RecoveryState
        {
            Group = Id,
            MemberId = _host.MemberId,
            Silo = _host.Self,
            Term = log.HardState.Term,
            LastIndex = last,
            LastTerm = log.Term(last),
            LeaderCommitSeen = Math.Max(_leaderCommitSeen, log.HardState.Commit),
            Voters = [.. conf.Voters.Order()],
            VotersOutgoing = [.. conf.VotersOutgoing.Order()],
            Learners = [.. conf.Learners.Union(conf.LearnersNext).Order()],
            Fault = _fault,
        };
    }

    /// <summary>
    /// Fences the replica for <paramref name="recoveryId"/> and returns its state, or null if another recovery holds it.
    /// The Ready in progress is finished first, so the state includes everything the node had accepted. Waiting writes
    /// and reads are answered: writes as unknown (the recovery may keep them), reads as not served.
    /// </summary>
    public RecoveryState? Fence(Guid recoveryId, TimeSpan hold)
    {
        var now = _host.Time.GetTimestamp();
        if (Fenced && _fencedFor != recoveryId && now < _fencedUntil) return null;
        if (!Fenced && HasReady) ProcessReady();
        _fencedFor = recoveryId;
        _fencedUntil = now + (long)(hold.TotalSeconds * _host.Time.TimestampFrequency);
        FailAllPending("The group is being re-formed after losing its quorum; the write may be kept.");
        LogFenced(_logger, Id, recoveryId);
        return GetRecoveryState();
    }

    /// <summary>Lifts the fence of recovery <paramref name="recoveryId"/>, if it holds the replica.</summary>
    public void ReleaseFence(Guid recoveryId)
    {
        if (_fencedFor != recoveryId) return;
        _fencedFor = Guid.Empty;
        LogFenceReleased(_logger, Id, recoveryId);
    }

    /// <summary>Lifts a fence whose recovery neither completed nor released it in time (its coordinator failed).</summary>
    private void ReleaseExpiredFence()
    {
        if (Fenced && _host.Time.GetTimestamp() >= _fencedUntil) ReleaseFence(_fencedFor);
    }

    /// <summary>Whether recovery <paramref name="recoveryId"/> holds this replica.</summary>
    public bool IsFencedBy(Guid recoveryId) => Fenced && _fencedFor == recoveryId;

    /// <summary>
    /// The replica of the recovered group that takes the place of <paramref name="old"/>, a survivor fenced by
    /// <paramref name="plan"/>'s recovery: the same log and cache, the plan's configuration, in the new epoch. The chosen
    /// survivor commits every entry it holds and campaigns in the epoch's first term; every other voter has already voted
    /// for it in that term, so no other replica can lead it, and from then on the recovered group is ordinary Raft.
    /// </summary>
    public static GroupReplica Recover(GroupReplica old, RecoveryPlan plan)
    {
        var host = old._host;
        var log = old._storage.Log;
        old.Dispose();
        foreach (var (id, silo) in plan.Routes) host.LearnRoute(id, silo);
        log.SetConfState(new ConfState { Voters = [.. plan.Voters], Learners = [.. plan.Learners] });
        var chosen = plan.Chosen == host.MemberId;
        // The chosen survivor's term is below the epoch (the epoch is above every survivor's term): its campaign takes it
        // to the epoch's first term, in which the others voted for it.
        log.SetHardState(chosen
            ? new HardState(plan.Epoch - 1, RaftConfig.None, log.LastIndex())
            : new HardState(plan.Epoch, plan.Chosen, log.HardState.Commit));
        var replica = new GroupReplica(host, old.Id with { Epoch = plan.Epoch }, log, old._cache, old._logger)
        {
            _leaderCommitSeen = old._leaderCommitSeen,
        };
        LogRecovered(old._logger, replica.Id, plan.Chosen, new MemberList([.. plan.Voters]), log.HardState.Commit);
        if (chosen)
        {
            // Apply what the new commit index covers first: a node does not campaign while committed configuration
            // changes wait to be applied (here, changes of the old history, applied as no-ops).
            replica.ProcessReady();
            replica._node.Campaign();
        }

        return replica;
    }

    /// <summary>
    /// Whether a majority of the voters of this replica's configuration (of each half while joint) is on silos Orleans
    /// has not declared dead; keeps <see cref="QuorumLostSince"/> (the automatic recovery policy waits on it).
    /// </summary>
    public void NoteQuorum(ClusterMembershipSnapshot membership)
    {
        var conf = _storage.Log.ConfState;
        bool IsLost(ulong member) => member != _host.MemberId && membership.IsLost(_host.TryRoute(member, out var silo) ? silo : null);
        var lost = !MembershipSnapshotExtensions.HasLiveMajority(conf.Voters, IsLost) || !MembershipSnapshotExtensions.HasLiveMajority(conf.VotersOutgoing, IsLost);
        if (!lost) QuorumLostSince = 0;
        else if (QuorumLostSince == 0) QuorumLostSince = _host.Time.GetTimestamp();
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Group {Group}: fenced by quorum-loss recovery {RecoveryId}")]
    private static partial void LogFenced(ILogger logger, GroupId group, Guid recoveryId);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Group {Group}: the fence of recovery {RecoveryId} is lifted; the group is unchanged")]
    private static partial void LogFenceReleased(ILogger logger, GroupId group, Guid recoveryId);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Group {Group}: re-formed after losing its quorum: member {Chosen}'s log is kept, voters [{Voters}], commit {Commit}")]
    private static partial void LogRecovered(ILogger logger, GroupId group, ulong chosen, MemberList voters, ulong commit);
}
