using System.Buffers;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Group;

/// <summary>
/// The context of RaftCache's membership changes: which silo each added member lives on, so that every replica that
/// applies the change can route to it.
/// </summary>
internal static class MemberContext
{
    public static byte[] Encode(IReadOnlyList<(ulong MemberId, SiloAddress Silo)> members)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new WireWriter(buffer);
        WriteMembers(ref writer, members);
        return buffer.WrittenSpan.ToArray();
    }

    public static List<(ulong MemberId, SiloAddress Silo)> Decode(ReadOnlyMemory<byte> context)
    {
        if (context.IsEmpty) return [];
        var reader = new WireReader(context);
        return ReadMembers(ref reader);
    }

    /// <summary>Writes a member list: count, then each member's id and silo address. Also the replica snapshot's routes.</summary>
    public static void WriteMembers(ref WireWriter writer, IReadOnlyCollection<(ulong MemberId, SiloAddress Silo)> members)
    {
        writer.WriteVarint((ulong)members.Count);
        foreach (var (id, silo) in members)
        {
            writer.WriteVarint(id);
            writer.WriteBytes(System.Text.Encoding.UTF8.GetBytes(silo.ToParsableString()));
        }
    }

    /// <summary>Reads what <see cref="WriteMembers"/> wrote.</summary>
    public static List<(ulong MemberId, SiloAddress Silo)> ReadMembers(ref WireReader reader)
    {
        var count = reader.ReadVarint();
        var result = new List<(ulong, SiloAddress)>();
        for (ulong i = 0; i < count; i++)
        {
            var id = reader.ReadVarint();
            result.Add((id, SiloAddress.FromParsableString(System.Text.Encoding.UTF8.GetString(reader.ReadBytes()))));
        }

        return result;
    }
}
