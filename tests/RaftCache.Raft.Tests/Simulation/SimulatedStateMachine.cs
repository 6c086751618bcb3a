using System.Buffers.Binary;

namespace RaftCache.Raft.Tests.Simulation;

/// <summary>
/// The application of the simulation: it only remembers how many payloads it applied and a rolling hash of them,
/// which is enough to tell whether two replicas applied the same sequence (state machine safety) and to round-trip
/// through a snapshot. Volatile: a crash loses it, a restart rebuilds it from the stored snapshot.
/// </summary>
internal sealed class SimulatedStateMachine
{
    private const int SerializedSize = 24;

    /// <summary>The index of the last entry applied, or of the snapshot restored.</summary>
    public ulong Applied { get; private set; }

    /// <summary>Non-empty payloads applied (the leaders' no-op entries carry none).</summary>
    public ulong PayloadCount { get; private set; }

    /// <summary>A hash of every (index, payload) applied so far: equal on two replicas iff they applied the same log.</summary>
    public ulong StateHash { get; private set; }

    public void Apply(in Entry entry, ulong dataHash)
    {
        Applied = entry.Index;
        if (!entry.Data.IsEmpty) PayloadCount++;
        StateHash = Hashing.Mix(Hashing.Mix(StateHash, entry.Index), dataHash);
    }

    public byte[] Serialize()
    {
        var data = new byte[SerializedSize];
        BinaryPrimitives.WriteUInt64LittleEndian(data, Applied);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), PayloadCount);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16), StateHash);
        return data;
    }

    /// <summary>
    /// Replaces the state by a snapshot's. A snapshot without data is the empty state of a new group: none, or the
    /// one <see cref="MemStorage.CreateBootstrapped"/> records at <see cref="MemStorage.BootstrapIndex"/>.
    /// </summary>
    public void Restore(Snapshot snapshot)
    {
        if (snapshot.Data.IsEmpty)
        {
            if (snapshot.Metadata.Index > MemStorage.BootstrapIndex)
                throw new InvariantViolationException("snapshot integrity", $"snapshot at index {snapshot.Metadata.Index} carries no state machine data");
            Applied = snapshot.Metadata.Index;
            PayloadCount = 0;
            StateHash = 0;
            return;
        }

        var span = snapshot.Data.Span;
        if (span.Length != SerializedSize)
            throw new InvariantViolationException("snapshot integrity", $"snapshot at index {snapshot.Metadata.Index} has {span.Length} bytes of data, not {SerializedSize}");
        Applied = BinaryPrimitives.ReadUInt64LittleEndian(span);
        PayloadCount = BinaryPrimitives.ReadUInt64LittleEndian(span[8..]);
        StateHash = BinaryPrimitives.ReadUInt64LittleEndian(span[16..]);
        if (Applied != snapshot.Metadata.Index)
            throw new InvariantViolationException("snapshot integrity", $"snapshot metadata says index {snapshot.Metadata.Index} but its data was taken at {Applied}");
    }
}

/// <summary>FNV-1a based hashing: stable across processes and runtimes, unlike <see cref="HashCode"/>, so fingerprints replay.</summary>
internal static class Hashing
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    public static ulong Of(ReadOnlySpan<byte> data)
    {
        var hash = Offset;
        foreach (var b in data) hash = (hash ^ b) * Prime;
        return Mix(hash, (ulong)data.Length);
    }

    public static ulong Mix(ulong hash, ulong value)
    {
        hash ^= value;
        hash *= Prime;
        hash ^= hash >> 29;
        return hash;
    }
}

/// <summary>A safety property does not hold; the run stops and reports it with its seed.</summary>
internal sealed class InvariantViolationException(string invariant, string detail) : Exception($"{invariant}: {detail}")
{
    public string Invariant { get; } = invariant;

    public string Detail { get; } = detail;
}
