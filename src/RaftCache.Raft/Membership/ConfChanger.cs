using System.Collections.Immutable;

namespace RaftCache.Raft.Membership;

/// <summary>
/// Computes the configuration that results from a <see cref="ConfChange"/> (thesis §4.3, etcd's ConfChangeV2
/// semantics). Pure: it never touches replication progress; the node creates and drops progress for the members
/// that appear and disappear.
/// </summary>
/// <remarks>
/// Thesis §4.3: a change of one voter at a time is safe in one step because any majority of the old voters
/// overlaps any majority of the new ones; anything larger must pass through a joint configuration, in which
/// elections and commitment need separate majorities of both the outgoing and the incoming voters.
/// </remarks>
public static class ConfChanger
{
    /// <summary>
    /// The configuration after applying <paramref name="change"/> to <paramref name="current"/>: an empty change
    /// leaves the joint configuration; <see cref="ConfChangeTransition.Auto"/> with at most one voter changed takes
    /// the one-step path; anything else enters a joint configuration (auto-leave unless
    /// <see cref="ConfChangeTransition.JointExplicit"/>).
    /// </summary>
    /// <exception cref="InvalidConfChangeException">The change is not valid in <paramref name="current"/>.</exception>
    public static MembershipConfig Apply(MembershipConfig current, ConfChange change)
    {
        var result = TryApply(current, change, out var error);
        return result ?? throw new InvalidConfChangeException(error!);
    }

    /// <summary>Why <paramref name="change"/> is invalid in <paramref name="current"/>, or null if it is valid.</summary>
    public static string? Validate(MembershipConfig current, ConfChange change)
    {
        TryApply(current, change, out var error);
        return error;
    }

    /// <summary>The resulting configuration, or null with <paramref name="error"/> saying why the change is invalid.</summary>
    public static MembershipConfig? TryApply(MembershipConfig current, ConfChange change, out string? error)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(change);

        var result = change.Changes.IsDefaultOrEmpty
            ? LeaveJoint(current, out error)
            : EnterChange(current, change, out error);
        if (result is null)
        {
            return null;
        }

        // By construction the single changes keep every invariant; checking anyway turns a bug here into an
        // explicit rejection instead of a corrupt configuration that every replica would then share.
        var broken = result.CheckInvariants();
        if (broken is not null)
        {
            error = $"the change would break an invariant: {broken}";
            return null;
        }

        error = null;
        return result;
    }

    private static MembershipConfig? EnterChange(MembershipConfig current, ConfChange change, out string? error)
    {
        switch (change.Transition)
        {
            case ConfChangeTransition.Auto:
                // The incoming voters come out the same whichever path is taken (only where a demoted voter is
                // staged differs), so applying once with the one-step semantics decides the path.
                var simple = new Builder(current, outgoing: []);
                error = simple.ApplyAll(change.Changes);
                if (error is not null)
                {
                    return null;
                }

                // etcd takes the one-step path for Auto only when the set holds a single change. What the safety
                // argument (thesis §4.1) needs is that at most one voter changes, so that is the test here: a batch
                // of learner changes needs no joint round. Otherwise: joint, left by the leader by itself.
                return VotersChanged(current.Voters, simple.Voters) <= 1
                    ? Simple(current, simple, out error)
                    : EnterJoint(current, change, autoLeave: true, out error);
            case ConfChangeTransition.JointImplicit:
                return EnterJoint(current, change, autoLeave: true, out error);
            case ConfChangeTransition.JointExplicit:
                return EnterJoint(current, change, autoLeave: false, out error);
            default:
                error = $"unknown conf change transition {(byte)change.Transition}";
                return null;
        }
    }

    private static MembershipConfig? Simple(MembershipConfig current, Builder applied, out string? error)
    {
        if (current.IsJoint)
        {
            error = "can't apply simple config change in joint config: leave the joint configuration first";
            return null;
        }

        // Thesis §4.1: only a change of a single voter keeps every old majority overlapping every new one.
        if (VotersChanged(current.Voters, applied.Voters) > 1)
        {
            error = "a simple config change may alter at most one voter; more need a joint configuration";
            return null;
        }

        error = applied.CheckHasVoters();
        return error is null ? applied.Build(votersOutgoing: [], autoLeave: false) : null;
    }

    private static MembershipConfig? EnterJoint(MembershipConfig current, ConfChange change, bool autoLeave, out string? error)
    {
        if (current.IsJoint)
        {
            error = "the configuration is already joint: leave it before entering another";
            return null;
        }

        if (current.Voters.IsEmpty)
        {
            // The outgoing configuration would be empty, which is how "not joint" is represented.
            error = "a configuration without voters can't enter a joint configuration";
            return null;
        }

        // Thesis §4.3: the current voters become the outgoing configuration, and the changes apply to the incoming one.
        var joint = new Builder(current, outgoing: current.Voters);
        error = joint.ApplyAll(change.Changes) ?? joint.CheckHasVoters();
        return error is null ? joint.Build(votersOutgoing: current.Voters, autoLeave) : null;
    }

    private static MembershipConfig? LeaveJoint(MembershipConfig current, out string? error)
    {
        if (!current.IsJoint)
        {
            error = "can't leave a non-joint config: there is no joint configuration in force";
            return null;
        }

        // Outgoing voters that were demoted while joint become learners only now: until the joint configuration is
        // left they still vote in the outgoing majority (etcd's LearnersNext).
        error = null;
        return new MembershipConfig
        {
            Voters = current.Voters,
            VotersOutgoing = [],
            Learners = current.Learners.Union(current.LearnersNext),
            LearnersNext = [],
            AutoLeave = false,
        };
    }

    /// <summary>The size of the symmetric difference of two voter sets.</summary>
    private static int VotersChanged(ImmutableSortedSet<ulong> before, ImmutableSortedSet<ulong>.Builder after)
    {
        var changed = 0;
        foreach (var id in before)
        {
            if (!after.Contains(id))
            {
                changed++;
            }
        }

        foreach (var id in after)
        {
            if (!before.Contains(id))
            {
                changed++;
            }
        }

        return changed;
    }

    /// <summary>The incoming side of a configuration being changed; the outgoing voters are those of the current one.</summary>
    private sealed class Builder(MembershipConfig current, ImmutableSortedSet<ulong> outgoing)
    {
        private readonly ImmutableSortedSet<ulong> _outgoing = outgoing;
        private ulong? _lastVoterRemoved;

        public ImmutableSortedSet<ulong>.Builder Voters { get; } = current.Voters.ToBuilder();

        public ImmutableSortedSet<ulong>.Builder Learners { get; } = current.Learners.ToBuilder();

        public ImmutableSortedSet<ulong>.Builder LearnersNext { get; } = current.LearnersNext.ToBuilder();

        public string? ApplyAll(ImmutableArray<ConfChangeSingle> changes)
        {
            foreach (var change in changes)
            {
                if (change.NodeId == 0)
                {
                    return $"{change.Type} of node 0: node id 0 is reserved (it means \"no node\")";
                }

                switch (change.Type)
                {
                    case ConfChangeType.AddNode:
                        MakeVoter(change.NodeId);
                        break;
                    case ConfChangeType.AddLearnerNode:
                        MakeLearner(change.NodeId);
                        break;
                    case ConfChangeType.RemoveNode:
                        Remove(change.NodeId);
                        break;
                    default:
                        return $"unknown change type {(byte)change.Type} for node {change.NodeId}";
                }
            }

            return null;
        }

        public string? CheckHasVoters()
        {
            if (Voters.Count > 0)
            {
                return null;
            }

            return _lastVoterRemoved is { } id
                ? $"removing voter {id} would leave the configuration without voters"
                : "the change leaves the configuration without voters";
        }

        public MembershipConfig Build(ImmutableSortedSet<ulong> votersOutgoing, bool autoLeave) => new()
        {
            Voters = Voters.ToImmutable(),
            VotersOutgoing = votersOutgoing,
            Learners = Learners.ToImmutable(),
            LearnersNext = LearnersNext.ToImmutable(),
            AutoLeave = autoLeave,
        };

        private void MakeVoter(ulong id)
        {
            Voters.Add(id);
            Learners.Remove(id);
            LearnersNext.Remove(id);
        }

        private void MakeLearner(ulong id)
        {
            if (Learners.Contains(id))
            {
                return;
            }

            Remove(id);

            // A voter of the configuration being left keeps voting there until the joint configuration is left, so
            // it can't be a learner yet: it is staged in LearnersNext (etcd's makeLearner).
            if (_outgoing.Contains(id))
            {
                LearnersNext.Add(id);
            }
            else
            {
                Learners.Add(id);
            }
        }

        private void Remove(ulong id)
        {
            if (Voters.Remove(id) && Voters.Count == 0)
            {
                _lastVoterRemoved = id;
            }

            Learners.Remove(id);
            LearnersNext.Remove(id);
        }
    }
}
