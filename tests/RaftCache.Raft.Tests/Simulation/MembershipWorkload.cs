using System.Collections.Immutable;
using System.Text;
using RaftCache.Raft.Membership;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>
/// Draws the random membership changes of a run (thesis §4.3; etcd's ConfChangeV2 semantics): add a learner or a
/// voter, promote a learner, demote a voter, remove a learner or a voter (the leader included), and replace a voter
/// through a joint configuration, left automatically or by an explicit empty change.
/// </summary>
/// <remarks>
/// Only changes that <see cref="ConfChanger.Validate"/> accepts in the leader's configuration are drawn. The voter
/// count stays between <see cref="MinVoters"/> and <see cref="MaxVoters"/>, and below three only rarely, so that a
/// minority of crashed or cut-off voters does not stop the group for long. Ids once removed are never added again:
/// the real system gives a restarted silo a new id, because a node that lost its log must not vote as its old self.
/// </remarks>
internal sealed class MembershipWorkload(Random random, int poolSize, int maxVoters, Func<ulong, bool> isRetired)
{
    /// <summary>The fewest voters a drawn change leaves (a single voter would make every read and commit local).</summary>
    public const int MinVoters = 2;

    private const int MaxLearners = 2;

    /// <summary>Largest voter count the workload grows the group to.</summary>
    public int MaxVoters { get; } = maxVoters;

    /// <summary>
    /// A random valid change of <paramref name="config"/> proposed on <paramref name="leader"/>, or null when the
    /// configuration is joint (only leaving it is valid then; that is drawn separately) or nothing fits.
    /// </summary>
    public ConfChange? Draw(MembershipConfig config, ulong leader)
    {
        if (config.IsJoint) return null;
        var voters = config.Voters;
        var learners = config.Learners;
        var spares = new List<ulong>();
        for (var id = 1UL; id <= (ulong)poolSize; id++)
        {
            if (!config.IsMember(id) && !isRetired(id)) spares.Add(id);
        }

        // Losing a voter is allowed down to three voters, and to two only now and then: two-voter groups are the
        // most fragile (any fault stops them), so they are visited but not lived in. Replacing a voter is allowed
        // from two voters too: that is where a leader that loses its vote must hand over rather than just step down
        // (the other voter may still need its vote under the previous configuration); seeds 16 and 105 of the
        // 3-to-5 scenario deadlocked there before the core handed over with TimeoutNow.
        var mayLoseVoter = voters.Count > 3 || (voters.Count > MinVoters && random.Next(8) == 0);
        var mayGainVoter = voters.Count < MaxVoters;
        var options = new List<(int Weight, Func<ConfChange> Make)>();
        if (spares.Count > 0 && learners.Count < MaxLearners)
            options.Add((4, () => Single(ConfChangeType.AddLearnerNode, Pick(spares))));
        if (learners.Count > 0 && mayGainVoter)
            options.Add((4, () => Single(ConfChangeType.AddNode, Pick(learners))));
        if (spares.Count > 0 && mayGainVoter)
            options.Add((1, () => Single(ConfChangeType.AddNode, Pick(spares))));
        if (learners.Count > 0)
            options.Add((1, () => Single(ConfChangeType.RemoveNode, Pick(learners))));
        if (mayLoseVoter && learners.Count < MaxLearners)
            options.Add((2, () => Single(ConfChangeType.AddLearnerNode, PickVoter(voters, leader))));
        if (mayLoseVoter)
            options.Add((3, () => Single(ConfChangeType.RemoveNode, PickVoter(voters, leader))));

        // Replacing a voter changes two voters at once, which thesis §4.3 allows only through a joint configuration.
        var newcomers = learners.Concat(spares).ToList();
        var mayReplaceVoter = voters.Count >= MinVoters;
        if (newcomers.Count > 0 && mayReplaceVoter)
            options.Add((4, () => Joint(ConfChangeType.RemoveNode, Pick(newcomers), PickVoter(voters, leader))));
        if (learners.Count > 0 && mayReplaceVoter)
            options.Add((2, () => Joint(ConfChangeType.AddLearnerNode, Pick(learners), PickVoter(voters, leader))));

        if (options.Count == 0) return null;
        var total = options.Sum(o => o.Weight);
        var draw = random.Next(total);
        foreach (var (weight, make) in options)
        {
            if (draw < weight)
            {
                var change = make();
                return ConfChanger.Validate(config, change) is null ? change : null;
            }

            draw -= weight;
        }

        return null;
    }

    private static ConfChange Single(ConfChangeType type, ulong id) =>
        new() { Transition = ConfChangeTransition.Auto, Changes = [new ConfChangeSingle(type, id)] };

    /// <summary>Adds <paramref name="incoming"/> as a voter and removes or demotes <paramref name="outgoing"/>, jointly.</summary>
    private ConfChange Joint(ConfChangeType outgoingChange, ulong incoming, ulong outgoing)
    {
        // Auto with two voters changed also goes joint (auto-leave); JointExplicit waits for an empty change.
        var transition = random.Next(3) switch
        {
            0 => ConfChangeTransition.Auto,
            1 => ConfChangeTransition.JointImplicit,
            _ => ConfChangeTransition.JointExplicit,
        };
        return new ConfChange
        {
            Transition = transition,
            Changes = [new ConfChangeSingle(ConfChangeType.AddNode, incoming), new ConfChangeSingle(outgoingChange, outgoing)],
        };
    }

    private ulong Pick(IReadOnlyList<ulong> ids) => ids[random.Next(ids.Count)];

    private ulong Pick(ImmutableSortedSet<ulong> ids) => ids[random.Next(ids.Count)];

    /// <summary>The leader itself a third of the time (a leader removing itself steps down once that is applied), else any voter.</summary>
    private ulong PickVoter(ImmutableSortedSet<ulong> voters, ulong leader) =>
        voters.Contains(leader) && random.Next(3) == 0 ? leader : Pick(voters);
}

/// <summary>Packs conf changes and conf states of ids below 16 into the plain values of a trace event.</summary>
internal static class ConfChangeDescription
{
    private const int MaxId = 15;

    /// <summary>Bit 63 set, then the transition and up to four (type, id) pairs.</summary>
    public static ulong Pack(ConfChange change)
    {
        var packed = (1UL << 63) | (ulong)change.Transition;
        var shift = 2;
        foreach (var single in change.Changes.Take(4))
        {
            packed |= (((ulong)single.Type << 4) | Math.Min(single.NodeId, MaxId)) << shift;
            shift += 6;
        }

        return packed;
    }

    /// <summary>Bit 62 set, then 16-bit masks of voters, outgoing voters, learners and learners-next; bit 61: auto-leave.</summary>
    public static ulong Pack(ConfState state)
    {
        var packed = (1UL << 62) | (state.AutoLeave ? 1UL << 61 : 0);
        packed |= Mask(state.Voters) | (Mask(state.VotersOutgoing) << 15) | (Mask(state.Learners) << 30) | (Mask(state.LearnersNext) << 45);
        return packed;
    }

    public static string Unpack(ulong packed)
    {
        var text = new StringBuilder();
        if ((packed & (1UL << 63)) != 0)
        {
            var transition = (ConfChangeTransition)(packed & 3);
            text.Append(transition).Append(" [");
            var any = false;
            for (var shift = 2; shift < 26; shift += 6)
            {
                var single = (packed >> shift) & 63;
                if (single == 0) continue;
                if (any) text.Append(", ");
                text.Append((ConfChangeType)(single >> 4)).Append(' ').Append(single & 15);
                any = true;
            }

            return text.Append(']').ToString();
        }

        text.Append("voters ").Append(Ids(packed & 0x7FFF));
        if (((packed >> 15) & 0x7FFF) != 0) text.Append(" & outgoing ").Append(Ids((packed >> 15) & 0x7FFF));
        text.Append(" learners ").Append(Ids((packed >> 30) & 0x7FFF));
        if (((packed >> 45) & 0x7FFF) != 0) text.Append(" next ").Append(Ids((packed >> 45) & 0x7FFF));
        if ((packed & (1UL << 61)) != 0) text.Append(" auto-leave");
        return text.ToString();
    }

    // Ids 1..15 in bits 0..14.
    private static ulong Mask(ImmutableArray<ulong> ids)
    {
        var mask = 0UL;
        foreach (var id in ids) mask |= 1UL << (int)(Math.Min(id, MaxId) - 1);
        return mask;
    }

    private static string Ids(ulong mask)
    {
        var ids = new List<ulong>();
        for (var bit = 0; bit < MaxId; bit++)
        {
            if ((mask & (1UL << bit)) != 0) ids.Add((ulong)bit + 1);
        }

        return $"{{{string.Join(",", ids)}}}";
    }
}
