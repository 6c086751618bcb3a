using System.Collections.Immutable;

namespace RaftCache.Raft.Quorum;

/// <summary>
/// Two majority configurations that must both agree while a membership change is in progress (thesis §4.3,
/// joint consensus). Outside a change <see cref="Outgoing"/> is empty and this behaves as <see cref="Incoming"/>.
/// </summary>
/// <remarks>Immutable. The empty outgoing configuration commits everything and wins every vote, so it never holds
/// back the incoming one.</remarks>
public sealed class JointConfig
{
    private readonly IReadOnlyList<ulong> _allVoters;

    /// <summary>Creates a joint configuration; pass <see cref="MajorityConfig.Empty"/> as outgoing when not joint.</summary>
    public JointConfig(MajorityConfig incoming, MajorityConfig outgoing)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        ArgumentNullException.ThrowIfNull(outgoing);
        Incoming = incoming;
        Outgoing = outgoing;
        _allVoters = outgoing.Count == 0 ? incoming.Voters : MergeDistinct(incoming.Voters, outgoing.Voters);
    }

    /// <summary>The new (or only) voters.</summary>
    public MajorityConfig Incoming { get; }

    /// <summary>The old voters while joint; empty otherwise.</summary>
    public MajorityConfig Outgoing { get; }

    /// <summary>True when <see cref="Outgoing"/> is not empty.</summary>
    public bool IsJoint => Outgoing.Count > 0;

    /// <summary>Whether <paramref name="id"/> votes in either configuration.</summary>
    public bool IsVoter(ulong id) => Incoming.Contains(id) || Outgoing.Contains(id);

    /// <summary>Every voter of either configuration, sorted ascending, without duplicates.</summary>
    public IReadOnlyList<ulong> AllVoters => _allVoters;

    /// <summary>The largest index committed in both configurations (the minimum of the two).</summary>
    /// <remarks>Thesis §4.3: while joint, agreement requires separate majorities of both configurations.</remarks>
    public ulong CommittedIndex(IAckedIndexer acked)
    {
        var incoming = Incoming.CommittedIndex(acked);
        var outgoing = Outgoing.CommittedIndex(acked);
        return Math.Min(incoming, outgoing);
    }

    /// <summary>Won if both won, lost if either lost, pending otherwise.</summary>
    public VoteResult VoteResult(IReadOnlyDictionary<ulong, bool> votes)
    {
        var incoming = Incoming.VoteResult(votes);
        var outgoing = Outgoing.VoteResult(votes);
        if (incoming == outgoing)
        {
            return incoming;
        }

        // Thesis §4.3: an election needs a majority of both configurations, so losing either one loses it.
        return incoming == Quorum.VoteResult.Lost || outgoing == Quorum.VoteResult.Lost
            ? Quorum.VoteResult.Lost
            : Quorum.VoteResult.Pending;
    }

    /// <summary>"(1 2 3)" outside a change, "(1 2 4)&amp;&amp;(1 2 3)" (incoming &amp;&amp; outgoing) while joint.</summary>
    public override string ToString() => IsJoint ? $"{Incoming}&&{Outgoing}" : Incoming.ToString();

    private static ImmutableArray<ulong> MergeDistinct(ImmutableArray<ulong> a, ImmutableArray<ulong> b)
    {
        var merged = ImmutableArray.CreateBuilder<ulong>(a.Length + b.Length);
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            ulong next;
            if (j == b.Length || (i < a.Length && a[i] < b[j]))
            {
                next = a[i++];
            }
            else if (i == a.Length || b[j] < a[i])
            {
                next = b[j++];
            }
            else
            {
                next = a[i++];
                j++;
            }

            merged.Add(next);
        }

        return merged.ToImmutable();
    }
}
