using RaftCache.Raft.Membership;

namespace RaftCache.Raft.Tests.Membership;

/// <summary>
/// Random walks through membership changes (in the spirit of etcd's confchange quick tests): whatever is proposed,
/// a rejected change is reported by Validate with the message Apply throws, and every accepted change yields a
/// configuration that keeps the invariants and survives a round trip through its persisted form.
/// </summary>
public sealed class ConfChangerPropertyTests
{
    private const int StepsPerSeed = 2_000;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(1234)]
    [InlineData(98765)]
    public void A_random_walk_of_changes_keeps_every_invariant(int seed)
    {
        var random = new Random(seed);
        var config = MembershipConfig.Empty;
        int accepted = 0, rejected = 0, joints = 0;
        for (var step = 0; step < StepsPerSeed; step++)
        {
            var change = RandomChange(random, config);
            var where = $"seed {seed}, step {step}: {config} + {Describe(change)}";

            var error = ConfChanger.Validate(config, change);
            MembershipConfig? next = null;
            InvalidConfChangeException? thrown = null;
            try
            {
                next = ConfChanger.Apply(config, change);
            }
            catch (InvalidConfChangeException exception)
            {
                thrown = exception;
            }

            if (error is not null)
            {
                Assert.True(thrown is not null, $"{where}: Validate said '{error}' but Apply accepted it");
                Assert.Equal(error, thrown.Message);
                rejected++;
                continue;
            }

            Assert.True(next is not null, $"{where}: Validate accepted it but Apply threw '{thrown?.Message}'");
            CheckTransition(config, change, next, where);
            CheckInvariants(next, where);
            joints += next.IsJoint ? 1 : 0;
            accepted++;
            config = next;
        }

        // The walk must actually explore: many accepted and rejected changes, and joint configurations.
        Assert.True(accepted > StepsPerSeed / 4, $"only {accepted} changes accepted");
        Assert.True(rejected > StepsPerSeed / 20, $"only {rejected} changes rejected");
        Assert.True(joints > StepsPerSeed / 20, $"only {joints} joint configurations");
    }

    private static void CheckTransition(MembershipConfig before, ConfChange change, MembershipConfig after, string where)
    {
        if (change.Changes.IsEmpty)
        {
            Assert.True(before.IsJoint, $"{where}: left a non-joint config");
            Assert.False(after.IsJoint, $"{where}: still joint after leaving");
            Assert.True(before.Voters.SetEquals(after.Voters), $"{where}: leaving changed the voters");
            Assert.True(after.Learners.SetEquals(before.Learners.Union(before.LearnersNext)), $"{where}: learners-next not moved");
        }
        else if (after.IsJoint)
        {
            Assert.False(before.IsJoint, $"{where}: entered joint from joint");
            Assert.True(after.VotersOutgoing.SetEquals(before.Voters), $"{where}: outgoing voters are not the previous voters");
            Assert.Equal(change.Transition != ConfChangeTransition.JointExplicit, after.AutoLeave);
        }
        else
        {
            // Thesis §4.1: a one-step change alters at most one voter, so old and new majorities overlap.
            Assert.Equal(ConfChangeTransition.Auto, change.Transition);
            Assert.False(before.IsJoint, $"{where}: simple change applied while joint");
            Assert.True(before.Voters.SymmetricExcept(after.Voters).Count <= 1, $"{where}: more than one voter changed in one step");
        }
    }

    private static void CheckInvariants(MembershipConfig config, string where)
    {
        Assert.Null(config.CheckInvariants());
        Assert.False(config.Voters.IsEmpty, $"{where}: no voters left");
        Assert.False(config.IsMember(0), $"{where}: node 0 is a member");
        foreach (var id in config.Learners)
        {
            Assert.False(config.IsVoter(id), $"{where}: {id} is voter and learner");
        }

        foreach (var id in config.LearnersNext)
        {
            Assert.True(config.VotersOutgoing.Contains(id) && !config.Voters.Contains(id), $"{where}: bad learner-next {id}");
        }

        Assert.True(config.IsJoint || !config.AutoLeave, $"{where}: auto-leave outside joint");
        Assert.Equal([.. config.Voters], config.Quorum.Incoming.Voters.ToArray());
        Assert.Equal([.. config.VotersOutgoing], config.Quorum.Outgoing.Voters.ToArray());
        Assert.Equal(config.IsJoint, config.Quorum.IsJoint);
        Assert.Equal(
            config.Voters.Union(config.VotersOutgoing).Union(config.Learners).Order().ToArray(),
            config.AllMembers.ToArray());

        var state = config.ToConfState();
        Assert.True(state.Voters.SequenceEqual(state.Voters.Order()), $"{where}: voters not sorted");
        Assert.True(state.Learners.SequenceEqual(state.Learners.Order()), $"{where}: learners not sorted");
        var restored = MembershipConfig.FromConfState(state);
        Assert.Equal(config, restored);
        Assert.Equal(state, restored.ToConfState());
    }

    private static ConfChange RandomChange(Random random, MembershipConfig config)
    {
        // Leave joint configurations often, as the leader would, and sometimes try to leave when not joint.
        if ((config.IsJoint && random.Next(3) == 0) || random.Next(15) == 0)
        {
            return new ConfChange { Transition = (ConfChangeTransition)random.Next(3) };
        }

        var transition = random.Next(10) switch
        {
            < 6 => ConfChangeTransition.Auto,
            < 8 => ConfChangeTransition.JointImplicit,
            _ => ConfChangeTransition.JointExplicit,
        };
        var changes = new ConfChangeSingle[random.Next(1, 4)];
        for (var i = 0; i < changes.Length; i++)
        {
            var type = (ConfChangeType)random.Next(3);
            var id = random.Next(50) == 0 ? 0UL : (ulong)random.Next(1, 8);
            changes[i] = new ConfChangeSingle(type, id);
        }

        return new ConfChange { Transition = transition, Changes = [.. changes] };
    }

    private static string Describe(ConfChange change) =>
        $"{change.Transition} [{string.Join(", ", change.Changes.Select(c => $"{c.Type} {c.NodeId}"))}]";
}
