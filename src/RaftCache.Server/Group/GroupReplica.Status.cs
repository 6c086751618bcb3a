using RaftCache.Raft;

namespace RaftCache.Server.Group;

/// <summary>The replica's status, as the façade and operators see it.</summary>
internal sealed partial class GroupReplica
{
    public ReplicaStatus GetStatus()
    {
        var status = _node.Status;
        var cache = _cache;
        var stats = cache.GetStatistics();
        var conf = status.ConfState;
        var role = status.SoftState.Role switch
        {
            StateRole.Follower when !conf.Voters.Contains(_host.MemberId) && !conf.VotersOutgoing.Contains(_host.MemberId) => ReplicaRole.Learner,
            StateRole.Follower => ReplicaRole.Follower,
            StateRole.PreCandidate => ReplicaRole.PreCandidate,
            StateRole.Candidate => ReplicaRole.Candidate,
            StateRole.Leader => ReplicaRole.Leader,
            _ => throw new InvalidOperationException($"Unknown Raft role {status.SoftState.Role}."),
        };
        var quorumLost = status.SoftState.Leader == RaftConfig.None;
        return new ReplicaStatus
        {
            MemberId = _host.MemberId,
            Role = role,
            Term = status.HardState.Term,
            LeaderId = status.SoftState.Leader,
            Commit = status.HardState.Commit,
            Applied = (ulong)stats.AppliedIndex,
            LastIndex = status.LastIndex,
            FirstIndex = _storage.Log.FirstIndex(),
            GroupId = Id.Layout,
            Group = Id.Index,
            Voters = [.. conf.Voters.Union(conf.VotersOutgoing).Order()],
            Learners = [.. conf.Learners.Union(conf.LearnersNext).Order()],
            Healthy = _fault is null && !quorumLost && !Fenced,
            Message = _fault is not null ? "Stopped: " + _fault
                : Fenced ? "Fenced: the group is being re-formed after losing its quorum."
                : quorumLost ? "No leader is known: an election is running or a majority of voters is unreachable."
                : null,
            EntryCount = stats.Count,
            CacheBytes = stats.TotalBytes,
            LogBytes = _storage.Log.LogBytes,
            StateDigest = cache.ComputeDigest(),
            LeaderChanges = _leaderChanges,
            Epoch = Id.Epoch,
        };
    }
}
