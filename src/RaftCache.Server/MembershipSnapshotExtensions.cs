namespace RaftCache.Server;

/// <summary>Views of Orleans membership that the replica and the façade share.</summary>
internal static class MembershipSnapshotExtensions
{
    /// <summary>The silos Orleans considers active, in a stable order (by address) so that every caller agrees.</summary>
    public static List<SiloAddress> ActiveSilos(this ClusterMembershipSnapshot snapshot) =>
        [.. snapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress)
            .OrderBy(s => s.ToParsableString(), StringComparer.Ordinal)];

    /// <summary>
    /// Whether a replica on <paramref name="silo"/> counts as lost for quorum-loss recovery: its member has no known
    /// silo, or Orleans declared the silo dead, or no longer lists it (its entry is cleaned up some time after its
    /// death). A silo declared dead never rejoins: one started again is a new incarnation, and a new Raft member.
    /// </summary>
    public static bool IsLost(this ClusterMembershipSnapshot snapshot, SiloAddress? silo) =>
        silo is null || snapshot.GetSiloStatus(silo) is SiloStatus.Dead or SiloStatus.None;

    /// <summary>Whether more than half of <paramref name="voters"/> are not lost; true for no voters (no configuration half).</summary>
    public static bool HasLiveMajority(IReadOnlyCollection<ulong> voters, Func<ulong, bool> isLost) =>
        voters.Count == 0 || voters.Count(v => !isLost(v)) > voters.Count / 2;
}
