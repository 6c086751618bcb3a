using System.Buffers;
using System.Collections.Immutable;
using System.Text;

namespace RaftCache.Raft.Quorum;

/// <summary>A set of voters decided by simple majority (Raft §5.2, §5.3).</summary>
/// <remarks>Immutable, so one instance can be shared by every configuration that has the same voters.</remarks>
public sealed class MajorityConfig
{
    // Up to this many voters the acked indexes are sorted in a stack buffer: CommittedIndex runs for every append
    // response the leader receives, and real groups have 3, 5 or 7 voters, so the common path must not allocate.
    private const int StackLimit = 7;

    private readonly ImmutableArray<ulong> _voters;

    /// <summary>The empty configuration: it wins every vote and commits everything (neutral element of <see cref="JointConfig"/>).</summary>
    public static MajorityConfig Empty { get; } = new([]);

    /// <summary>Creates the configuration of <paramref name="voters"/>.</summary>
    /// <remarks>Duplicates are ignored; the order does not matter.</remarks>
    public MajorityConfig(IEnumerable<ulong> voters)
    {
        ArgumentNullException.ThrowIfNull(voters);
        _voters = voters is ImmutableSortedSet<ulong> sorted && ReferenceEquals(sorted.KeyComparer, Comparer<ulong>.Default)
            ? [.. sorted]
            : [.. voters.Distinct().Order()];
    }

    /// <summary>The voters, sorted ascending.</summary>
    public ImmutableArray<ulong> Voters => _voters;

    /// <summary>The number of voters.</summary>
    public int Count => _voters.Length;

    /// <summary>The number of voters that make a majority: ⌊n/2⌋ + 1 (0 for the empty configuration).</summary>
    public int QuorumSize => _voters.IsEmpty ? 0 : (_voters.Length / 2) + 1;

    /// <summary>Whether <paramref name="id"/> is one of the voters.</summary>
    public bool Contains(ulong id) => _voters.AsSpan().BinarySearch(id) >= 0;

    /// <summary>
    /// The largest index acknowledged by a majority. A voter with no known index counts as 0. The empty
    /// configuration returns <see cref="ulong.MaxValue"/>, so that it never holds back a joint configuration.
    /// </summary>
    /// <remarks>Does not allocate for up to 7 voters.</remarks>
    public ulong CommittedIndex(IAckedIndexer acked)
    {
        ArgumentNullException.ThrowIfNull(acked);
        var n = _voters.Length;
        if (n == 0)
        {
            return ulong.MaxValue;
        }

        ulong[]? rented = null;
        Span<ulong> indexes = n <= StackLimit ? stackalloc ulong[StackLimit] : (rented = ArrayPool<ulong>.Shared.Rent(n));
        indexes = indexes[..n];
        try
        {
            var voters = _voters.AsSpan();
            for (var i = 0; i < n; i++)
            {
                indexes[i] = acked.TryGetAckedIndex(voters[i], out var index) ? index : 0;
            }

            indexes.Sort();

            // Sorted ascending, the element at n - quorum is acknowledged by itself and every voter above it: exactly
            // a quorum of voters have at least this index, and no larger index has as many (Raft §5.3).
            return indexes[n - ((n / 2) + 1)];
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ulong>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The election outcome given the votes so far (true = granted; a missing voter has not answered).</summary>
    /// <remarks>Votes of non-voters are ignored. The empty configuration wins every election.</remarks>
    public VoteResult VoteResult(IReadOnlyDictionary<ulong, bool> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        if (_voters.IsEmpty)
        {
            return Quorum.VoteResult.Won;
        }

        int granted = 0, missing = 0;
        foreach (var id in _voters)
        {
            if (!votes.TryGetValue(id, out var vote))
            {
                missing++;
            }
            else if (vote)
            {
                granted++;
            }
        }

        var quorum = (_voters.Length / 2) + 1;
        if (granted >= quorum)
        {
            return Quorum.VoteResult.Won;
        }

        // Even if every voter that has not answered yet grants its vote there is no majority (Raft §5.2).
        return granted + missing >= quorum ? Quorum.VoteResult.Pending : Quorum.VoteResult.Lost;
    }

    /// <summary>The voters as "(1 2 3)".</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("(");
        for (var i = 0; i < _voters.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }

            sb.Append(_voters[i]);
        }

        return sb.Append(')').ToString();
    }
}
