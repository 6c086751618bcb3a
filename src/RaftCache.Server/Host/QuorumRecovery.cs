using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RaftCache.Server.Transport;

namespace RaftCache.Server.Host;

/// <summary>
/// Re-forms Raft groups that lost a majority of their voters from their surviving replicas, while the silos keep
/// running (design §4, "Quorum-loss recovery", in docs/design.md). Run by the façade for the operator's command, and by
/// the replica service under the automatic policy. It holds no state: each run asks the survivors where they are.
/// </summary>
/// <remarks>
/// A run, per group: ask every live silo for its replica; refuse unless the voters on silos Orleans has declared dead
/// are a majority of the configuration (of either half while joint) and every surviving member answered; fence every
/// survivor (it stops stepping messages, so its log stops changing); choose the survivor with the most up-to-date log
/// (last term, then last index; Raft §5.4.1); re-form the others first, each voting for the chosen one in the new
/// epoch's first term, then the chosen one, which commits its whole log and campaigns. A survivor that cannot be fenced
/// ends the run with every fence lifted, so two runs at once can never re-form disjoint sets of survivors.
/// </remarks>
internal sealed partial class QuorumRecovery(
    IRaftReplicaClient peers,
    IClusterMembershipService membership,
    IOptions<RaftCacheOptions> options,
    TimeProvider time,
    ILogger<QuorumRecovery> logger)
{
    private readonly RaftCacheOptions _options = options.Value;

    /// <summary>Recovers group <paramref name="group"/> of <paramref name="layout"/>, or every group; a dry run unless <paramref name="confirm"/>.</summary>
    public async Task<GroupRecovery[]> RunAsync(ClusterLayout layout, int? group, bool confirm)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (group is { } g && (g < 0 || g >= layout.Groups))
            return [new GroupRecovery { Group = g, Outcome = RecoveryOutcome.Refused, Message = $"The cluster has groups 0 to {layout.Groups - 1}." }];
        var groups = group is { } one ? [one] : Enumerable.Range(0, layout.Groups);
        return await Task.WhenAll(groups.Select(index => RecoverGroupAsync(layout, index, confirm)));
    }

    private async Task<GroupRecovery> RecoverGroupAsync(ClusterLayout layout, int index, bool confirm)
    {
        var snapshot = membership.CurrentSnapshot;
        var answers = await AskAsync(snapshot.ActiveSilos(), silo => peers.For(silo).GetRecoveryState(layout.Id, index));
        var replicas = answers.Where(a => a.State is not null).Select(a => a.State!).ToList();
        var silentSilos = answers.Where(a => a.Error is not null).Select(a => $"{a.Silo} ({a.Error})").ToList();
        if (silentSilos.Count > 0)
            return Refused(index, $"Every live silo must answer, and these did not: {string.Join(", ", silentSilos)}. Ask again once they answer, or once Orleans declares them dead.");
        if (replicas.Count == 0) return await FormAnewAsync(layout, index, snapshot, replicas, [], confirm);

        // Replicas of an epoch before the last recovery are leftovers: the recovered group replaces them when it contacts them.
        var epoch = replicas.Max(r => r.Group.Epoch);
        var current = replicas.Where(r => r.Group.Epoch == epoch).ToList();
        var knownSilos = snapshot.Members.Values.Select(m => m.SiloAddress).ToDictionary(MemberIds.For);
        bool IsDead(ulong member) => snapshot.IsLost(knownSilos.GetValueOrDefault(member));
        string Describe(ulong member) => knownSilos.TryGetValue(member, out var silo) ? silo.ToString() : $"member {member}";

        // A replica that joined but has not yet received its configuration (it has no voters) tells nothing.
        var configurations = current.Where(r => r.Voters.Length > 0).Select(r => (Voters: r.Voters, Outgoing: r.VotersOutgoing)).Distinct(ConfigurationComparer.Instance).ToList();
        var deadVoters = configurations.SelectMany(c => c.Voters.Concat(c.Outgoing)).Distinct().Where(IsDead).Order().Select(Describe).ToArray();
        foreach (var (incoming, outgoing) in configurations)
        {
            if (MembershipSnapshotExtensions.HasLiveMajority(incoming, IsDead) && MembershipSnapshotExtensions.HasLiveMajority(outgoing, IsDead))
            {
                var dead = incoming.Concat(outgoing).Count(IsDead);
                return new GroupRecovery
                {
                    Group = index, Outcome = RecoveryOutcome.NotNeeded, DeadVoters = deadVoters, Epoch = epoch,
                    Message = (dead == 0
                        ? "Orleans has declared no voter's silo dead"
                        : $"Orleans has declared {dead} of {incoming.Length} voters' silos dead, not a majority")
                        + ": the group elects its own leader once a majority of its voters can reach one another. Only silos Orleans has declared dead count as lost; if silos were just lost, ask again once Orleans has declared them dead.",
                };
            }
        }

        // Survivors: members of the configuration they applied. A replica the group removed but that was not yet dropped
        // is no survivor.
        var survivors = current.Where(r => r.Fault is null && r.IsMember).ToList();
        if (survivors.Count == 0) return await FormAnewAsync(layout, index, snapshot, replicas, deadVoters, confirm);

        var chosen = Choose(survivors);
        var report = Report(index, chosen, survivors, deadVoters);
        if (!confirm)
        {
            return report with
            {
                Outcome = RecoveryOutcome.Planned,
                Message = $"Group {index} lost its quorum. Recovery would keep the log of {chosen.Silo} up to index {chosen.LastIndex} (term {chosen.LastTerm}). {LossText(report)} Confirm to recover.",
            };
        }

        var recoveryId = Guid.NewGuid();
        var hold = _options.RequestTimeout * 6;
        var fenced = await AskAsync(survivors, r => peers.For(r.Silo).FenceForRecovery(r.Group, recoveryId, hold), r => r.Silo);
        if (fenced.Any(f => f.State is null))
        {
            await Task.WhenAll(fenced.Where(f => f.State is not null).Select(f => ReleaseAsync(f.State!, recoveryId)));
            var failed = fenced.Where(f => f.State is null).Select(f => $"{f.Silo} ({f.Error ?? "held by another recovery, or no longer in this epoch"})");
            return Refused(index, $"Not every survivor could be fenced: {string.Join(", ", failed)}. Nothing was changed; ask again.", deadVoters);
        }

        // Fenced logs no longer change: choose again from what they hold now.
        var states = fenced.Select(f => f.State!).ToList();
        chosen = Choose(states);
        report = Report(index, chosen, states, deadVoters);
        var newEpoch = Math.Max(states.Max(s => s.Term), epoch) + 1;
        var voters = states.Where(s => s.MemberId == chosen.MemberId || s.IsVoter).Select(s => s.MemberId).Order().ToArray();
        var plan = new RecoveryPlan
        {
            RecoveryId = recoveryId,
            Group = chosen.Group,
            Epoch = newEpoch,
            Voters = voters,
            Learners = [.. states.Select(s => s.MemberId).Except(voters).Order()],
            Chosen = chosen.MemberId,
            Routes = states.ToDictionary(s => s.MemberId, s => s.Silo),
        };
        LogRecovering(logger, index, chosen.Silo, chosen.LastIndex, newEpoch, string.Join(", ", deadVoters));

        // The others first: each votes for the chosen survivor in the epoch's first term before it campaigns.
        var others = await AskAsync(states.Where(s => s.MemberId != chosen.MemberId).ToList(), s => peers.For(s.Silo).CompleteRecovery(plan), s => s.Silo);
        var (leader, leaderError) = await TryAsync(() => peers.For(chosen.Silo).CompleteRecovery(plan));
        if (leader is not true)
        {
            return report with
            {
                Outcome = RecoveryOutcome.Failed, Epoch = newEpoch,
                Message = $"The chosen survivor {chosen.Silo} did not take the new configuration ({leaderError ?? "it was no longer fenced by this recovery"}); the group may have no leader. Ask again.",
            };
        }

        var lagging = others.Where(o => o.State is not true).Select(o => o.Silo.ToString()).ToList();
        return report with
        {
            Outcome = RecoveryOutcome.Recovered, Epoch = newEpoch,
            Message = $"Group {index} re-formed in epoch {newEpoch} from {states.Count} survivor(s), keeping the log of {chosen.Silo} up to index {chosen.LastIndex}. {LossText(report)}"
                + (lagging.Count == 0 ? "" : $" Survivors that did not take the new configuration and will rejoin afresh: {string.Join(", ", lagging)}."),
        };

    }

    /// <summary>
    /// No replica of the group survived (none is a member of its configuration, or every one stopped with a fault): its
    /// data is lost with the dead silos. Rather than restart the cluster, the group is formed anew, empty, on the oldest
    /// live silo, in an epoch above every term any leftover replica reports, so leftovers are replaced when the new
    /// leader contacts them. Placement then adds the silos it chooses.
    /// </summary>
    private async Task<GroupRecovery> FormAnewAsync(ClusterLayout layout, int index, ClusterMembershipSnapshot snapshot, List<RecoveryState> leftovers, string[] deadVoters, bool confirm)
    {
        var silo = snapshot.ActiveSilos().OrderBy(s => s.Generation).ThenBy(s => s.ToParsableString(), StringComparer.Ordinal).FirstOrDefault();
        if (silo is null) return Refused(index, "No live silo can host the group.", deadVoters);
        var epoch = leftovers.Select(r => Math.Max(r.Group.Epoch, r.Term)).DefaultIfEmpty(0UL).Max() + 1;
        var report = new GroupRecovery { Group = index, ChosenSilo = silo.ToString(), ChosenMemberId = MemberIds.For(silo), DeadVoters = deadVoters };
        const string lost = "No replica of the group survived: every entry it held is lost.";
        if (!confirm)
            return report with { Outcome = RecoveryOutcome.Planned, Message = $"Group {index} lost its quorum. {lost} Recovery would form it anew, empty, on {silo}. Confirm to recover." };
        var (formed, error) = await TryAsync(() => peers.For(silo).FormGroupAnew(new GroupId(layout.Id, index, epoch)));
        return formed
            ? report with { Outcome = RecoveryOutcome.Recovered, Epoch = epoch, Message = $"Group {index} formed anew, empty, on {silo} in epoch {epoch}. {lost}" }
            : report with { Outcome = RecoveryOutcome.Failed, Message = $"Forming group {index} anew on {silo} failed ({error ?? "the silo already holds a replica of a later epoch"}). Ask again." };
    }

    /// <summary>The most up-to-date log (Raft §5.4.1); among equals a voter, then the lowest member id, so every run agrees.</summary>
    private static RecoveryState Choose(List<RecoveryState> survivors) => survivors
        .OrderByDescending(s => s.LastTerm).ThenByDescending(s => s.LastIndex)
        .ThenByDescending(s => s.IsVoter).ThenBy(s => s.MemberId)
        .First();

    private static GroupRecovery Report(int index, RecoveryState chosen, List<RecoveryState> survivors, string[] deadVoters)
    {
        var lastKnownCommit = survivors.Max(s => s.LeaderCommitSeen);
        return new GroupRecovery
        {
            Group = index,
            ChosenSilo = chosen.Silo.ToString(),
            ChosenMemberId = chosen.MemberId,
            KeptIndex = chosen.LastIndex,
            KeptTerm = chosen.LastTerm,
            LastKnownCommit = lastKnownCommit,
            EntriesBehindKnownCommit = lastKnownCommit > chosen.LastIndex ? lastKnownCommit - chosen.LastIndex : 0,
            EntriesCommittedByRecovery = chosen.LastIndex > lastKnownCommit ? chosen.LastIndex - lastKnownCommit : 0,
            Survivors = [.. survivors.Select(s => s.Silo.ToString()).Order(StringComparer.Ordinal)],
            DeadVoters = deadVoters,
        };
    }

    private static string LossText(GroupRecovery report) =>
        (report.EntriesBehindKnownCommit > 0
            ? $"The survivors were {report.EntriesBehindKnownCommit} entries behind the last commit they heard of ({report.LastKnownCommit}): those writes are lost."
            : $"The kept log reaches the last commit the survivors heard of ({report.LastKnownCommit}).")
        + " Entries a leader among the dead voters committed after the survivors last heard of a commit are lost too, and cannot be counted."
        + (report.EntriesCommittedByRecovery > 0 ? $" {report.EntriesCommittedByRecovery} entries past that commit, whose writers were not told they were applied, take effect." : "");

    private static GroupRecovery Refused(int index, string message, string[]? deadVoters = null) =>
        new() { Group = index, Outcome = RecoveryOutcome.Refused, Message = message, DeadVoters = deadVoters ?? [] };

    private async Task ReleaseAsync(RecoveryState state, Guid recoveryId) => await TryAsync(async () =>
    {
        await peers.For(state.Silo).ReleaseFence(state.Group, recoveryId);
        return true;
    });

    private Task<(SiloAddress Silo, T? State, string? Error)[]> AskAsync<T>(IEnumerable<SiloAddress> silos, Func<SiloAddress, Task<T>> call) =>
        AskAsync(silos.ToList(), call, silo => silo);

    private async Task<(SiloAddress Silo, T? State, string? Error)[]> AskAsync<TItem, T>(IReadOnlyList<TItem> items, Func<TItem, Task<T>> call, Func<TItem, SiloAddress> siloOf) =>
        await Task.WhenAll(items.Select(async item =>
        {
            var (state, error) = await TryAsync(() => call(item));
            return (siloOf(item), state, error);
        }));

    private async Task<(T? Result, string? Error)> TryAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return (await call().WaitAsync(_options.RequestTimeout, time), null);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
        {
            return (default, e.GetType().Name + ": " + e.Message);
        }
    }

    /// <summary>Compares configurations by their voter sets.</summary>
    private sealed class ConfigurationComparer : IEqualityComparer<(ulong[] Voters, ulong[] Outgoing)>
    {
        public static readonly ConfigurationComparer Instance = new();

        public bool Equals((ulong[] Voters, ulong[] Outgoing) x, (ulong[] Voters, ulong[] Outgoing) y) =>
            x.Voters.AsSpan().SequenceEqual(y.Voters) && x.Outgoing.AsSpan().SequenceEqual(y.Outgoing);

        public int GetHashCode((ulong[] Voters, ulong[] Outgoing) obj) => HashCode.Combine(obj.Voters.Length, obj.Voters.FirstOrDefault(), obj.Outgoing.Length);
    }

    [LoggerMessage(EventId = 1310, Level = LogLevel.Warning, Message = "Group {Group}: recovering from quorum loss: keeping the log of {Silo} up to index {Index}, new epoch {Epoch}; dead voters: {DeadVoters}")]
    private static partial void LogRecovering(ILogger logger, int group, SiloAddress silo, ulong index, ulong epoch, string deadVoters);
}
