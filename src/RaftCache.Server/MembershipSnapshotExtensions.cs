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
}
