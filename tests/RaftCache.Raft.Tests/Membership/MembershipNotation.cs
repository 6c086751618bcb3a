using System.Collections.Immutable;
using RaftCache.Raft.Membership;

namespace RaftCache.Raft.Tests.Membership;

/// <summary>Short builders for configurations and changes in the membership tables.</summary>
internal static class MembershipNotation
{
    public static MembershipConfig Config(
        ulong[] voters, ulong[]? outgoing = null, ulong[]? learners = null, ulong[]? learnersNext = null, bool autoLeave = false) => new()
    {
        Voters = [.. voters],
        VotersOutgoing = [.. outgoing ?? []],
        Learners = [.. learners ?? []],
        LearnersNext = [.. learnersNext ?? []],
        AutoLeave = autoLeave,
    };

    public static ConfChangeSingle AddVoter(ulong id) => new(ConfChangeType.AddNode, id);

    public static ConfChangeSingle AddLearner(ulong id) => new(ConfChangeType.AddLearnerNode, id);

    public static ConfChangeSingle Remove(ulong id) => new(ConfChangeType.RemoveNode, id);

    public static ConfChange Auto(params ConfChangeSingle[] changes) => Change(ConfChangeTransition.Auto, changes);

    public static ConfChange Implicit(params ConfChangeSingle[] changes) => Change(ConfChangeTransition.JointImplicit, changes);

    public static ConfChange Explicit(params ConfChangeSingle[] changes) => Change(ConfChangeTransition.JointExplicit, changes);

    public static ConfChange LeaveJoint { get; } = new();

    public static ConfChange Change(ConfChangeTransition transition, params ConfChangeSingle[] changes) =>
        new() { Transition = transition, Changes = [.. changes] };

    public static ImmutableArray<ulong> Ids(params ulong[] ids) => [.. ids];
}
