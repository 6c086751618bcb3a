using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace RaftCache.Server.Host;

/// <summary>
/// Where each group's replicas and leader belong, computed from the layout and the active silos alone, so that every
/// silo that sees the same membership computes the same placement (design §4, "Groups and placement").
/// </summary>
/// <remarks>
/// Replicas: rendezvous (highest random weight) hashing. Each silo gets a score per group, and a group's replicas are
/// the silos with the highest scores; when a silo joins or leaves, only the replicas it gains or loses move. Leaders:
/// the groups are dealt in order to their replicas, each to the one that leads the fewest groups so far (ties go to the
/// higher score), so no silo is the preferred leader of more than its share of groups, rounded up, unless the
/// replica sets themselves leave no other choice.
/// </remarks>
internal static class Placement
{
    /// <summary>The silos that should hold <paramref name="group"/>'s replicas, best first: at most <paramref name="replicas"/>.</summary>
    public static List<SiloAddress> ReplicasOf(ClusterLayout layout, int group, IReadOnlyList<SiloAddress> activeSilos, int replicas) =>
        [.. activeSilos
            .Select(silo => (Silo: silo, Score: Score(layout.Id, group, silo)))
            .OrderByDescending(s => s.Score).ThenBy(s => s.Silo.ToParsableString(), StringComparer.Ordinal)
            .Take(replicas)
            .Select(s => s.Silo)];

    /// <summary>The preferred leader of every group (index = group), given the same inputs on every silo.</summary>
    public static SiloAddress[] PreferredLeaders(ClusterLayout layout, IReadOnlyList<SiloAddress> activeSilos, int replicas)
    {
        var leaders = new SiloAddress[layout.Groups];
        if (activeSilos.Count == 0) return leaders;
        var led = new Dictionary<SiloAddress, int>();
        for (var group = 0; group < layout.Groups; group++)
        {
            SiloAddress? best = null;
            foreach (var silo in ReplicasOf(layout, group, activeSilos, replicas))
            {
                if (best is null || led.GetValueOrDefault(silo) < led.GetValueOrDefault(best)) best = silo;
            }

            leaders[group] = best!;
            led[best!] = led.GetValueOrDefault(best!) + 1;
        }

        return leaders;
    }

    /// <summary>A silo's score for a group: XxHash64 of the layout id, the group and the silo incarnation.</summary>
    private static ulong Score(Guid layout, int group, SiloAddress silo)
    {
        var name = silo.ToParsableString();
        Span<byte> bytes = stackalloc byte[20 + Encoding.UTF8.GetMaxByteCount(name.Length)];
        layout.TryWriteBytes(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[16..], group);
        var length = 20 + Encoding.UTF8.GetBytes(name, bytes[20..]);
        return XxHash64.HashToUInt64(bytes[..length]);
    }
}
