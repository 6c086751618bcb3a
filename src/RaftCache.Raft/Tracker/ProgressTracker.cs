using System.Collections.Immutable;
using RaftCache.Raft.Membership;
using RaftCache.Raft.Quorum;

namespace RaftCache.Raft.Tracker;

/// <summary>
/// The configuration in force and the progress of every member; counts votes and computes the commit index
/// through <see cref="JointConfig"/>, so joint consensus (thesis §4.3) needs nothing special elsewhere.
/// </summary>
/// <remarks>Members are iterated in ascending id order so that messages come out in a deterministic order.</remarks>
internal sealed class ProgressTracker : IAckedIndexer
{
    private readonly int _maxInflight;
    private readonly Dictionary<ulong, Progress> _progress = [];
    private readonly Dictionary<ulong, bool> _votes = [];
    private readonly Dictionary<ulong, bool> _active = [];
    private ulong[] _ids = [];

    public ProgressTracker(int maxInflight)
    {
        _maxInflight = maxInflight;
        Config = MembershipConfig.Empty;
        Quorum = Config.Quorum;
    }

    public MembershipConfig Config { get; private set; }

    public JointConfig Quorum { get; private set; }

    /// <summary>Member ids in ascending order.</summary>
    public ReadOnlySpan<ulong> Ids => _ids;

    public IReadOnlyDictionary<ulong, bool> Votes => _votes;

    public bool TryGet(ulong id, out Progress progress) => _progress.TryGetValue(id, out progress!);

    public Progress this[ulong id] => _progress[id];

    /// <summary>A single voter and no joint configuration: commits and wins alone.</summary>
    public bool IsSingleton => !Quorum.IsJoint && Quorum.Incoming.Voters.Length == 1;

    public bool IsVoter(ulong id) => Quorum.IsVoter(id);

    /// <summary>
    /// Switches to <paramref name="config"/>: members that appear get fresh progress at
    /// <paramref name="nextIndex"/> in probe state; members that disappear are dropped; the rest keep theirs.
    /// </summary>
    public void SetConfig(MembershipConfig config, ulong nextIndex)
    {
        Config = config;
        Quorum = config.Quorum;
        var members = config.AllMembers;
        var ids = new ulong[members.Count];
        for (var k = 0; k < ids.Length; k++) ids[k] = members[k];
        foreach (var id in _ids)
        {
            if (Array.BinarySearch(ids, id) < 0) _progress.Remove(id);
        }

        foreach (var id in ids)
        {
            var isLearner = config.Learners.Contains(id) || config.LearnersNext.Contains(id);
            if (_progress.TryGetValue(id, out var existing))
            {
                existing.IsLearner = isLearner && !config.IsVoter(id);
            }
            else
            {
                // A newcomer is treated as active so that the leader does not step down before hearing from it.
                _progress[id] = new Progress(nextIndex, _maxInflight, isLearner && !config.IsVoter(id)) { RecentActive = true };
            }
        }

        _ids = ids;
    }

    /// <summary>Resets every member's progress (on becoming leader or candidate).</summary>
    public void ResetProgress(ulong nextIndex, ulong selfId, ulong selfMatch)
    {
        foreach (var id in _ids)
        {
            var learner = _progress[id].IsLearner;
            var pr = new Progress(nextIndex, _maxInflight, learner);
            if (id == selfId) pr.Match = selfMatch;
            _progress[id] = pr;
        }
    }

    /// <inheritdoc/>
    public bool TryGetAckedIndex(ulong voterId, out ulong index)
    {
        if (_progress.TryGetValue(voterId, out var pr))
        {
            index = pr.Match;
            return true;
        }

        index = 0;
        return false;
    }

    /// <summary>The largest index replicated on a quorum of both configurations (Raft §5.3, thesis §4.3).</summary>
    public ulong Committed() => Quorum.CommittedIndex(this);

    public void ResetVotes() => _votes.Clear();

    public void RecordVote(ulong id, bool granted) => _votes.TryAdd(id, granted);

    public VoteResult TallyVotes() => Quorum.VoteResult(_votes);

    /// <summary>Whether a quorum was heard from since the last check (thesis §6.2), then clears the marks.</summary>
    public bool QuorumActive(ulong selfId)
    {
        _active.Clear();
        foreach (var id in _ids)
        {
            var pr = _progress[id];
            if (pr.IsLearner) continue;
            _active[id] = id == selfId || pr.RecentActive;
            if (id != selfId) pr.RecentActive = false;
        }

        return Quorum.VoteResult(_active) == VoteResult.Won;
    }

    public ImmutableSortedDictionary<ulong, ProgressStatus> ToStatus()
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<ulong, ProgressStatus>();
        foreach (var id in _ids) builder[id] = _progress[id].ToStatus();
        return builder.ToImmutable();
    }
}
