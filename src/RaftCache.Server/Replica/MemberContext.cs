using System.Buffers;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Replica;

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
        writer.WriteVarint((ulong)members.Count);
        foreach (var (id, silo) in members)
        {
            writer.WriteVarint(id);
            writer.WriteBytes(System.Text.Encoding.UTF8.GetBytes(silo.ToParsableString()));
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static List<(ulong MemberId, SiloAddress Silo)> Decode(ReadOnlyMemory<byte> context)
    {
        var result = new List<(ulong, SiloAddress)>();
        if (context.IsEmpty) return result;
        var reader = new WireReader(context);
        var count = reader.ReadVarint();
        for (ulong i = 0; i < count; i++)
        {
            var id = reader.ReadVarint();
            result.Add((id, SiloAddress.FromParsableString(System.Text.Encoding.UTF8.GetString(reader.ReadBytes().Span))));
        }

        return result;
    }
}
