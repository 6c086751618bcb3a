using RaftCache.Raft.Quorum;

namespace RaftCache.Raft.Tests.Quorum;

/// <summary>
/// The quorum computations against naive definitions on thousands of seeded random configurations (in the spirit of
/// etcd's quorum quick tests). A failure names the case so it can be replayed.
/// </summary>
public sealed class QuorumPropertyTests
{
    private const int Cases = 5_000;

    [Fact]
    public void Majority_CommittedIndex_matches_counting_acknowledgements_for_every_candidate_index()
    {
        var random = new Random(20240611);
        for (var i = 0; i < Cases; i++)
        {
            var voters = RandomIds(random, maxCount: 11);
            var acks = RandomAcks(random, voters);
            var config = new MajorityConfig(voters);

            Assert.True(
                NaiveCommitted(acks, voters) == config.CommittedIndex(acks),
                $"case {i}: voters {config}, acks {Describe(acks)}");
        }
    }

    [Fact]
    public void Joint_CommittedIndex_matches_counting_acknowledgements_in_both_configurations()
    {
        var random = new Random(4242);
        for (var i = 0; i < Cases; i++)
        {
            var incoming = RandomIds(random, maxCount: 9);
            var outgoing = random.Next(4) == 0 ? [] : RandomIds(random, maxCount: 9);
            var acks = RandomAcks(random, [.. incoming.Union(outgoing)]);
            var config = new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing));

            Assert.True(
                NaiveCommitted(acks, incoming, outgoing) == config.CommittedIndex(acks),
                $"case {i}: voters {config}, acks {Describe(acks)}");
        }
    }

    [Fact]
    public void Joint_VoteResult_matches_enumerating_every_way_the_missing_votes_could_go()
    {
        var random = new Random(77);
        for (var i = 0; i < Cases; i++)
        {
            var incoming = RandomIds(random, maxCount: 7);
            var outgoing = random.Next(3) == 0 ? [] : RandomIds(random, maxCount: 7);
            var everyone = incoming.Union(outgoing).Order().ToArray();
            var votes = new Dictionary<ulong, bool>();
            foreach (var id in everyone)
            {
                switch (random.Next(3))
                {
                    case 0: votes[id] = true; break;
                    case 1: votes[id] = false; break;
                }
            }

            var config = new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing));

            Assert.True(
                NaiveVoteResult(votes, everyone, incoming, outgoing) == config.VoteResult(votes),
                $"case {i}: voters {config}, votes {string.Join(' ', votes.Select(v => $"{v.Key}={(v.Value ? 'y' : 'n')}"))}");
            if (outgoing.Length == 0)
            {
                Assert.Equal(config.Incoming.VoteResult(votes), config.VoteResult(votes));
            }
        }
    }

    // The definition itself: the largest index that, for every configuration, a majority of its voters have
    // acknowledged (an empty configuration imposes nothing).
    private static ulong NaiveCommitted(Acks acks, params ulong[][] configs)
    {
        var candidates = acks.Indexes.Values.Append(0UL).Append(ulong.MaxValue).Distinct().OrderDescending();
        foreach (var candidate in candidates)
        {
            var committed = configs.All(voters =>
                voters.Length == 0 ||
                voters.Count(id => acks.TryGetAckedIndex(id, out var index) && index >= candidate) > voters.Length / 2);
            if (committed)
            {
                return candidate;
            }
        }

        return 0;
    }

    // Won if every completion of the missing votes wins both configurations, lost if none does, pending otherwise.
    private static VoteResult NaiveVoteResult(Dictionary<ulong, bool> votes, ulong[] everyone, ulong[] incoming, ulong[] outgoing)
    {
        var missing = everyone.Where(id => !votes.ContainsKey(id)).ToArray();
        int wins = 0, completions = 1 << missing.Length;
        for (var mask = 0; mask < completions; mask++)
        {
            var all = new Dictionary<ulong, bool>(votes);
            for (var b = 0; b < missing.Length; b++)
            {
                all[missing[b]] = (mask & (1 << b)) != 0;
            }

            if (WinsMajority(all, incoming) && WinsMajority(all, outgoing))
            {
                wins++;
            }
        }

        return wins == completions ? VoteResult.Won : wins == 0 ? VoteResult.Lost : VoteResult.Pending;
    }

    private static bool WinsMajority(Dictionary<ulong, bool> votes, ulong[] voters) =>
        voters.Length == 0 || voters.Count(id => votes[id]) > voters.Length / 2;

    private static ulong[] RandomIds(Random random, int maxCount)
    {
        var count = random.Next(maxCount + 1);
        return [.. Enumerable.Range(0, count).Select(_ => (ulong)random.Next(1, 16)).Distinct()];
    }

    private static Acks RandomAcks(Random random, ulong[] voters)
    {
        var acks = new Acks();
        foreach (var id in voters)
        {
            // A small range of indexes makes duplicates frequent; some voters have acknowledged nothing.
            if (random.Next(5) != 0)
            {
                acks[id] = (ulong)random.Next(0, 8);
            }
        }

        // Acknowledgements from non-voters must be ignored.
        if (random.Next(2) == 0)
        {
            acks[99] = (ulong)random.Next(0, 8);
        }

        return acks;
    }

    private static string Describe(Acks acks) => string.Join(' ', acks.Indexes.Select(a => $"{a.Key}={a.Value}"));
}
