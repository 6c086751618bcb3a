using System.Runtime.CompilerServices;

namespace RaftCache.Linearizability;

/// <summary>
/// A memoized search node of <see cref="RegisterSearch"/>: the set of linearized operations, the register state, and
/// the guard (the state before an Unknown write just placed, which limits what may follow; int.MinValue if none).
/// </summary>
/// <remarks>
/// <see cref="BitsHash"/> is the Zobrist hash of the set (the XOR of a random 64-bit word per member), kept up to date
/// in O(1) as operations are lifted and unlifted, so hashing never scans the bitset; equality still compares the bitsets
/// in full, so a hash collision costs time, never correctness.
/// </remarks>
internal readonly struct MemoKey(ulong[] bits, int state, int guard, ulong bitsHash)
{
    public ulong[] Bits { get; } = bits;

    public int State { get; } = state;

    public int Guard { get; } = guard;

    public ulong BitsHash { get; } = bitsHash;
}

/// <summary>Hashes and compares <see cref="MemoKey"/>s.</summary>
internal sealed class MemoKeyComparer : IEqualityComparer<MemoKey>
{
    public static readonly MemoKeyComparer Instance = new();

    public bool Equals(MemoKey x, MemoKey y) =>
        x.BitsHash == y.BitsHash && x.State == y.State && x.Guard == y.Guard && x.Bits.AsSpan().SequenceEqual(y.Bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetHashCode(MemoKey obj)
    {
        // Mix the state and guard in with multiplicative (Fibonacci) hashing so that equal sets with different states
        // spread out.
        var states = ((ulong)(uint)obj.Guard << 32) | (uint)obj.State;
        var hash = obj.BitsHash ^ (states * 0x9E3779B97F4A7C15UL);
        return (int)(hash ^ (hash >> 32));
    }
}
