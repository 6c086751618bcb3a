using System.Collections.Immutable;
using System.Text;
using RaftCache.Raft.Quorum;

namespace RaftCache.Raft.Membership;

/// <summary>
/// The membership a node works with: voters (one or two majority configurations), learners, and the learners to be
/// (thesis §4.3; etcd's tracker.Config). Immutable; every change produces a new instance.
/// </summary>
/// <remarks>
/// Invariants: a node is never both voter (in either configuration) and learner; <see cref="LearnersNext"/> only
/// holds outgoing voters that become learners when the joint configuration is left; <see cref="AutoLeave"/> only
/// while joint. <see cref="ConfChanger"/> and <see cref="FromConfState"/> only produce configurations that keep
/// them; <see cref="CheckInvariants"/> tells whether one built by hand does.
/// </remarks>
public sealed record MembershipConfig
{
    // Derived views, computed on first use. A `with` expression goes through the copy constructor below, which
    // deliberately does not copy them: the copy may get different sets, so it must recompute its own.
    // Races are benign: the views are immutable and equal whichever thread computes them.
    private JointConfig? _quorum;
    private IReadOnlyList<ulong>? _allMembers;

    /// <summary>Creates an empty configuration; set the members with an object initializer.</summary>
    public MembershipConfig()
    {
    }

    private MembershipConfig(MembershipConfig original)
    {
        Voters = original.Voters;
        VotersOutgoing = original.VotersOutgoing;
        Learners = original.Learners;
        LearnersNext = original.LearnersNext;
        AutoLeave = original.AutoLeave;
    }

    /// <summary>No members at all: the state of a node that has not been added to a group yet.</summary>
    public static MembershipConfig Empty { get; } = new();

    /// <summary>Voters of the incoming (or only) configuration.</summary>
    public ImmutableSortedSet<ulong> Voters { get; init; } = [];

    /// <summary>Voters of the outgoing configuration while joint; empty otherwise.</summary>
    public ImmutableSortedSet<ulong> VotersOutgoing { get; init; } = [];

    /// <summary>Learners.</summary>
    public ImmutableSortedSet<ulong> Learners { get; init; } = [];

    /// <summary>Outgoing voters that become learners when the joint configuration is left.</summary>
    public ImmutableSortedSet<ulong> LearnersNext { get; init; } = [];

    /// <summary>Whether the leader leaves the joint configuration automatically once it is applied.</summary>
    public bool AutoLeave { get; init; }

    /// <summary>True while joint.</summary>
    public bool IsJoint => !VotersOutgoing.IsEmpty;

    /// <summary>The quorum view of the voters.</summary>
    /// <remarks>Computed once per instance.</remarks>
    public JointConfig Quorum => _quorum ??= new JointConfig(
        Voters.IsEmpty ? MajorityConfig.Empty : new MajorityConfig(Voters),
        VotersOutgoing.IsEmpty ? MajorityConfig.Empty : new MajorityConfig(VotersOutgoing));

    /// <summary>Every member (voters of both configurations, learners, learners-next), sorted ascending.</summary>
    /// <remarks>Computed once per instance. Learners-next are always outgoing voters, so they add nobody.</remarks>
    public IReadOnlyList<ulong> AllMembers =>
        _allMembers ??= ImmutableArray.CreateRange(Voters.Union(VotersOutgoing).Union(Learners).Union(LearnersNext));

    /// <summary>Whether <paramref name="id"/> may campaign and vote: a voter of either configuration.</summary>
    public bool IsVoter(ulong id) => Voters.Contains(id) || VotersOutgoing.Contains(id);

    /// <summary>Whether <paramref name="id"/> is a learner (not counting learners-next, which still vote while joint).</summary>
    public bool IsLearner(ulong id) => Learners.Contains(id);

    /// <summary>Whether <paramref name="id"/> is a member in any role.</summary>
    public bool IsMember(ulong id) => IsVoter(id) || Learners.Contains(id);

    /// <summary>The persisted form.</summary>
    public ConfState ToConfState() => new()
    {
        Voters = [.. Voters],
        Learners = [.. Learners],
        VotersOutgoing = [.. VotersOutgoing],
        LearnersNext = [.. LearnersNext],
        AutoLeave = AutoLeave,
    };

    /// <summary>Rebuilds a configuration from its persisted form (after restart or a snapshot).</summary>
    /// <exception cref="InvalidConfChangeException">The conf state breaks an invariant.</exception>
    public static MembershipConfig FromConfState(ConfState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var config = TryFromConfState(state, out var error);
        return config ?? throw new InvalidConfChangeException($"Invalid conf state: {error}");
    }

    /// <summary>
    /// Rebuilds a configuration from its persisted form, or returns null with the first broken invariant in
    /// <paramref name="error"/> (for checking a conf state received from a peer without an exception).
    /// </summary>
    internal static MembershipConfig? TryFromConfState(ConfState state, out string? error)
    {
        var config = new MembershipConfig
        {
            Voters = ToSet(state.Voters),
            Learners = ToSet(state.Learners),
            VotersOutgoing = ToSet(state.VotersOutgoing),
            LearnersNext = ToSet(state.LearnersNext),
            AutoLeave = state.AutoLeave,
        };
        error = config.CheckInvariants();
        return error is null ? config : null;
    }

    /// <summary>The first broken invariant, described, or null when the configuration is consistent.</summary>
    public string? CheckInvariants()
    {
        if (Voters.Contains(0) || VotersOutgoing.Contains(0) || Learners.Contains(0) || LearnersNext.Contains(0))
        {
            return "node id 0 is reserved and cannot be a member";
        }

        foreach (var id in Learners)
        {
            if (Voters.Contains(id))
            {
                return $"node {id} is both a voter and a learner";
            }

            if (VotersOutgoing.Contains(id))
            {
                return $"node {id} is both an outgoing voter and a learner";
            }
        }

        foreach (var id in LearnersNext)
        {
            if (!VotersOutgoing.Contains(id))
            {
                return $"node {id} is a learner-next but not an outgoing voter";
            }

            if (Voters.Contains(id))
            {
                return $"node {id} is both a learner-next and an incoming voter";
            }
        }

        if (!IsJoint && AutoLeave)
        {
            return "auto-leave is set but the configuration is not joint";
        }

        return null;
    }

    /// <inheritdoc/>
    public bool Equals(MembershipConfig? other) =>
        other is not null && AutoLeave == other.AutoLeave &&
        Voters.SequenceEqual(other.Voters) && VotersOutgoing.SequenceEqual(other.VotersOutgoing) &&
        Learners.SequenceEqual(other.Learners) && LearnersNext.SequenceEqual(other.LearnersNext);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var id in Voters) hash.Add(id);
        hash.Add(-1);
        foreach (var id in VotersOutgoing) hash.Add(id);
        hash.Add(-2);
        foreach (var id in Learners) hash.Add(id);
        hash.Add(-3);
        foreach (var id in LearnersNext) hash.Add(id);
        hash.Add(AutoLeave);
        return hash.ToHashCode();
    }

    // Printed as "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(2) autoleave", the notation of etcd's
    // confchange test data, so test failures read like the thesis' figures.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("voters=").Append(Quorum);
        if (!Learners.IsEmpty)
        {
            builder.Append(" learners=").Append(new MajorityConfig(Learners));
        }

        if (!LearnersNext.IsEmpty)
        {
            builder.Append(" learners_next=").Append(new MajorityConfig(LearnersNext));
        }

        if (AutoLeave)
        {
            builder.Append(" autoleave");
        }

        return true;
    }

    // Sorted with the default comparer, so that equality and the persisted order never depend on the input order.
    private static ImmutableSortedSet<ulong> ToSet(ImmutableArray<ulong> ids) =>
        ids.IsDefaultOrEmpty ? [] : [.. ids];
}
