using System.IO.Hashing;

namespace RaftCache.StateMachine;

/// <summary>
/// Compares keys by content, and lets readers look keys up by <see cref="ReadOnlySpan{T}"/> without allocating.
/// Hash values only place keys in buckets: nothing that affects the replicated state iterates the dictionary in hash
/// order (eviction uses <see cref="EntryHeap"/>, the digest is order-independent, snapshots write heap order).
/// </summary>
internal sealed class ByteKeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteKeyComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    public int GetHashCode(byte[] obj) => Hash(obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    private static int Hash(ReadOnlySpan<byte> key)
    {
        var h = XxHash3.HashToUInt64(key);
        return (int)h ^ (int)(h >> 32);
    }
}
