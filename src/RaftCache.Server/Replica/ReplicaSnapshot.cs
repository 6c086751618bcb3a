using System.Buffers;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Replica;

/// <summary>
/// The data of a replica's Raft snapshot: the routing table (member id → silo) followed by the cache state machine's
/// own snapshot. Routes travel with the snapshot because a member that catches up by snapshot never sees the
/// compacted conf-change entries that recorded them.
/// </summary>
internal static class ReplicaSnapshot
{
    private const byte Version = 1;

    public static byte[] Create(IReadOnlyDictionary<ulong, SiloAddress> routes, ReadOnlySpan<byte> cacheSnapshot)
    {
        var buffer = new ArrayBufferWriter<byte>(cacheSnapshot.Length + 64 * (routes.Count + 1));
        var writer = new WireWriter(buffer);
        writer.WriteByte(Version);
        MemberContext.WriteMembers(ref writer, [.. routes.OrderBy(r => r.Key).Select(r => (r.Key, r.Value))]);
        writer.WriteBytes(cacheSnapshot);
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="FormatException">The data is not a replica snapshot of a known version.</exception>
    public static (Dictionary<ulong, SiloAddress> Routes, ReadOnlyMemory<byte> Cache) Read(ReadOnlyMemory<byte> data)
    {
        var reader = new WireReader(data);
        var version = reader.ReadByte();
        if (version != Version) throw new FormatException($"Unknown replica snapshot version {version}.");
        var routes = new Dictionary<ulong, SiloAddress>();
        foreach (var (id, silo) in MemberContext.ReadMembers(ref reader)) routes[id] = silo;
        var cache = reader.ReadBytes();
        if (!reader.End) throw new FormatException("The replica snapshot has trailing bytes.");
        return (routes, cache);
    }
}
