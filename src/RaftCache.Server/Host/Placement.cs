using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace RaftCache.Server.Host;

/// <summary>
/// Where each group's replicas and leader belong, computed from the layout and the active silos alone, so that every
/// silo that sees the same membership computes the same placement (design §4, "Groups and placement").
/// </summary>
/// <remarks>
/// <para>Replicas: rendezvous (highest random weight) hashing with bounded loads. Each silo gets a score per group; a
/// group's replicas are the silos with the highest scores among those that hold fewer than
/// ⌈groups × replicas ÷ silos⌉ replicas so far (groups taken in order). Plain rendezvous hashing moves only the
/// replicas a joining or leaving silo gains or loses, but its loads vary binomially (with 16 groups of 3 on 5 silos a
/// silo would hold anywhere from 4 to 15); the bound keeps every silo within its share, at the price of a few more
/// moves when the silos change, because a full silo passes a group on to its next choice. No silo ever holds more
/// than the bound: where the pass leaves one over it, a replica moves to a silo under it.</para>
/// <para>Leaders: the groups are dealt in order to their replicas, each to the one that leads the fewest groups so
/// far (ties to the higher score); then groups of a silo over its share ⌈groups ÷ silos⌉ move to a replica under it.</para>
/// </remarks>
internal static class Placement
{
    /// <summary>The replicas of every group (index = group), best first: <paramref name="replicas"/> distinct silos each, or every silo if there are fewer.</summary>
    public static List<SiloAddress>[] Replicas(ClusterLayout layout, IReadOnlyList<SiloAddress> activeSilos, int replicas)
    {
        var placement = new List<SiloAddress>[layout.Groups];
        var perGroup = Math.Min(replicas, activeSilos.Count);
        if (perGroup == 0)
        {
            for (var group = 0; group < layout.Groups; group++) placement[group] = [];
            return placement;
        }

        var capacity = (int)Math.Ceiling((double)layout.Groups * perGroup / activeSilos.Count);
        var load = new Dictionary<SiloAddress, int>();
        for (var group = 0; group < layout.Groups; group++)
        {
            var ranked = Ranked(layout, group, activeSilos);
            var chosen = new List<SiloAddress>(perGroup);
            foreach (var silo in ranked)
            {
                if (chosen.Count == perGroup) break;
                if (load.GetValueOrDefault(silo) < capacity) chosen.Add(silo);
            }

            // Near the end the silos with room left may be fewer than a group needs: take the least loaded of the
            // others for now (repaired below).
            foreach (var silo in ranked.Where(s => !chosen.Contains(s)).OrderBy(s => load.GetValueOrDefault(s)))
            {
                if (chosen.Count == perGroup) break;
                chosen.Add(silo);
            }

            foreach (var silo in chosen) load[silo] = load.GetValueOrDefault(silo) + 1;
            placement[group] = chosen;
        }

        // Repair what the end of the pass left over the bound: a silo over it holds more groups than a silo under it,
        // so it holds a group the other does not; hand that replica over. Each move lowers the excess, so this ends
        // with no silo over the bound.
        for (var over = OverBound(); over is not null; over = OverBound())
        {
            var moved = false;
            for (var group = 0; group < placement.Length && !moved; group++)
            {
                if (!placement[group].Contains(over)) continue;
                var to = Ranked(layout, group, activeSilos).FirstOrDefault(s => load.GetValueOrDefault(s) < capacity && !placement[group].Contains(s));
                if (to is null) continue;
                placement[group][placement[group].IndexOf(over)] = to;
                load[over]--;
                load[to] = load.GetValueOrDefault(to) + 1;
                moved = true;
            }

            if (!moved) break; // Not reachable by the argument above; a guard against looping forever.
        }

        return placement;

        SiloAddress? OverBound() => activeSilos.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).FirstOrDefault(s => load.GetValueOrDefault(s) > capacity);
    }

    /// <summary>The preferred leader of every group (index = group), one of its replicas in <paramref name="placement"/>.</summary>
    public static SiloAddress[] PreferredLeaders(List<SiloAddress>[] placement)
    {
        var leaders = new SiloAddress[placement.Length];
        var led = new Dictionary<SiloAddress, int>();
        for (var group = 0; group < placement.Length; group++)
        {
            SiloAddress? best = null;
            foreach (var silo in placement[group])
            {
                if (best is null || led.GetValueOrDefault(silo) < led.GetValueOrDefault(best)) best = silo;
            }

            if (best is null) continue;
            leaders[group] = best;
            led[best] = led.GetValueOrDefault(best) + 1;
        }

        // Dealing in order can leave a silo over its share when its groups' other replicas filled up first: move such
        // groups, one at a time, to a replica still under the share. Each move lowers the excess, so this ends.
        var silos = placement.SelectMany(p => p).Distinct().Count();
        if (silos == 0) return leaders;
        var share = (int)Math.Ceiling((double)placement.Length / silos);
        for (var moved = true; moved;)
        {
            moved = false;
            for (var group = 0; group < placement.Length && !moved; group++)
            {
                var leader = leaders[group];
                if (leader is null || led[leader] <= share) continue;
                foreach (var silo in placement[group])
                {
                    if (led.GetValueOrDefault(silo) >= share) continue;
                    leaders[group] = silo;
                    led[leader]--;
                    led[silo] = led.GetValueOrDefault(silo) + 1;
                    moved = true;
                    break;
                }
            }
        }

        return leaders;
    }

    private static List<SiloAddress> Ranked(ClusterLayout layout, int group, IReadOnlyList<SiloAddress> activeSilos) =>
        [.. activeSilos
            .Select(silo => (Silo: silo, Score: Score(layout.Id, group, silo)))
            .OrderByDescending(s => s.Score).ThenBy(s => s.Silo.ToParsableString(), StringComparer.Ordinal)
            .Select(s => s.Silo)];

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
