using System.Globalization;

namespace RaftCache.Silo;

/// <summary>The live view's JSON document: the cluster status arranged by group, with rates between two polls.</summary>
/// <param name="Time">When the status was gathered.</param>
/// <param name="Groups">Every group some replica reports, in order.</param>
/// <param name="Silos">Every silo that answered, and every silo that did not.</param>
internal sealed record ClusterView(DateTimeOffset Time, GroupView[] Groups, SiloView[] Silos)
{
    /// <summary>
    /// Arranges <paramref name="status"/> by group. Operations per second are the applied-index deltas since
    /// <paramref name="previous"/> (every applied entry is one command or batch; time-only entries count too).
    /// </summary>
    public static ClusterView From(ClusterStatus status, DateTimeOffset time, ClusterView? previous)
    {
        var before = previous?.Groups.SelectMany(g => g.Replicas).Where(r => r.Reachable)
            .ToDictionary(r => (r.Group, r.Member), r => r.Applied) ?? [];
        var seconds = previous is null ? 0 : (time - previous.Time).TotalSeconds;
        double Rate(ReplicaStatus r) => seconds > 0 && before.TryGetValue((r.Group, Hex(r.MemberId)), out var applied) && r.Applied >= applied
            ? Math.Round((r.Applied - applied) / seconds, 1)
            : 0;

        var groups = status.Groups.Select(group =>
        {
            var leader = status.LeaderOf(group);
            var replicas = status.Replicas.Where(r => r.IsReplica && r.Group == group).OrderBy(r => r.Silo, StringComparer.Ordinal)
                .Select(r => new ReplicaView(group, r.Silo, Hex(r.MemberId), r.Role.ToString(), r.Term, r.Commit, r.Applied,
                    leader is null ? null : leader.Commit >= r.Applied ? leader.Commit - r.Applied : 0,
                    r.LeaderChanges, Rate(r), r.EntryCount, r.CacheBytes, r.LogBytes, Reachable: true, r.Healthy, r.Message))
                .ToList();
            // A voter of the leader's configuration that no silo reported: its silo did not answer (killed, frozen or
            // cut off) and the leader has not removed it yet.
            if (leader is not null)
            {
                var reported = replicas.Select(r => r.Member).ToHashSet(StringComparer.Ordinal);
                replicas.AddRange(leader.Voters.Concat(leader.Learners).Select(Hex).Where(m => !reported.Contains(m))
                    .Select(m => new ReplicaView(group, "?", m, "Unreachable", 0, 0, 0, null, 0, 0, 0, 0, 0, Reachable: false, Healthy: false,
                        "A member of the group whose silo did not answer.")));
            }

            var epoch = status.Replicas.Where(r => r.IsReplica && r.Group == group).Select(r => r.Epoch).DefaultIfEmpty(0UL).Max();
            return new GroupView(group, leader?.Silo, leader?.Term ?? 0, leader?.Commit ?? 0, leader is null ? 0 : Rate(leader), epoch, [.. replicas]);
        }).ToArray();

        var silos = status.Replicas.GroupBy(r => r.Silo, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(silo =>
            {
                var first = silo.First();
                return new SiloView(silo.Key, Reachable: true, first.ProcessId, first.ProcessMemoryBytes, first.ManagedHeapBytes,
                    first.OrleansMessagesSent, silo.Count(r => r.IsReplica), silo.Count(r => r.Role == ReplicaRole.Leader), first.IsReplica ? null : first.Message);
            })
            .Concat(status.Unreachable.Select(text =>
            {
                // "S127.0.0.1:11113:123: TimeoutException: ..." (RaftCacheGrain.GetStatus): the silo, then the reason.
                var split = text.IndexOf(": ", StringComparison.Ordinal);
                return new SiloView(split < 0 ? text : text[..split], Reachable: false, 0, 0, 0, 0, 0, 0, split < 0 ? null : text[(split + 2)..]);
            }))
            .ToArray();
        return new ClusterView(time, groups, silos);
    }

    private static string Hex(ulong memberId) => memberId.ToString("x16", CultureInfo.InvariantCulture);
}

/// <summary>One group in the live view.</summary>
/// <param name="Group">The group's index.</param>
/// <param name="Leader">The leader's silo, or null while there is none.</param>
/// <param name="Term">The leader's term.</param>
/// <param name="Commit">The leader's commit index.</param>
/// <param name="OpsPerSecond">Entries the leader applied per second since the previous poll.</param>
/// <param name="Epoch">The group's epoch: 0 until it was re-formed after losing its quorum.</param>
/// <param name="Replicas">The replicas, including members whose silo did not answer.</param>
internal sealed record GroupView(int Group, string? Leader, ulong Term, ulong Commit, double OpsPerSecond, ulong Epoch, ReplicaView[] Replicas);

/// <summary>One replica in the live view.</summary>
/// <param name="Group">The replica's group.</param>
/// <param name="Silo">The silo hosting it, or "?" if it did not answer.</param>
/// <param name="Member">The Raft member id in hexadecimal (JavaScript numbers cannot hold 64 bits).</param>
/// <param name="Role">Leader, Follower, Learner, Candidate, PreCandidate, or Unreachable.</param>
/// <param name="Term">The replica's term.</param>
/// <param name="Commit">The replica's commit index.</param>
/// <param name="Applied">The replica's applied index.</param>
/// <param name="Lag">How far the applied index is behind the leader's commit, or null without a leader.</param>
/// <param name="LeaderChanges">Leader changes the replica has seen.</param>
/// <param name="OpsPerSecond">Entries applied per second since the previous poll.</param>
/// <param name="Entries">Live cache entries.</param>
/// <param name="CacheBytes">What the entries cost against the capacity bound.</param>
/// <param name="LogBytes">The bytes of Raft log the replica holds.</param>
/// <param name="Reachable">Whether the replica's silo answered.</param>
/// <param name="Healthy">Whether the replica applies and knows a leader.</param>
/// <param name="Message">Why it is unhealthy, or null.</param>
internal sealed record ReplicaView(int Group, string Silo, string Member, string Role, ulong Term, ulong Commit, ulong Applied, ulong? Lag,
    long LeaderChanges, double OpsPerSecond, long Entries, long CacheBytes, long LogBytes, bool Reachable, bool Healthy, string? Message);

/// <summary>One silo in the live view.</summary>
/// <param name="Silo">The silo address.</param>
/// <param name="Reachable">Whether it answered.</param>
/// <param name="ProcessId">Its process id.</param>
/// <param name="ProcessMemoryBytes">Its process's working set (shared by the silos of one process).</param>
/// <param name="ManagedHeapBytes">Its process's managed heap after the last collection.</param>
/// <param name="MessagesSent">Orleans messages it has sent.</param>
/// <param name="Replicas">The replicas it hosts.</param>
/// <param name="Leading">The groups it leads.</param>
/// <param name="Message">Why it did not answer, or a note.</param>
internal sealed record SiloView(string Silo, bool Reachable, int ProcessId, long ProcessMemoryBytes, long ManagedHeapBytes, long MessagesSent,
    int Replicas, int Leading, string? Message);
