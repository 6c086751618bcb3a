using System.IO.Hashing;
using System.Text;

namespace RaftCache.Server;

/// <summary>
/// Derives a replica's Raft member id from its silo incarnation (address and generation). A restarted silo has a
/// new generation and so a new id: with in-memory storage it lost its log and vote, and must never come back as the
/// same voter (design §4, docs/design.md).
/// </summary>
internal static class MemberIds
{
    /// <summary>The member id of the replica on <paramref name="silo"/>; never 0 (Raft's "none").</summary>
    public static ulong For(SiloAddress silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(silo.ToParsableString()));
        // Keep ids in 63 bits so they print the same as signed numbers, and away from 0.
        hash &= long.MaxValue;
        return hash == 0 ? 1 : hash;
    }
}
