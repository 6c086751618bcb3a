using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// Three silo processes whose one group has a voter on each; two of them, the leader among them, are SIGKILLed at once,
/// so the group loses its quorum while the third silo keeps running. Manually (<c>raftcache recover</c>) or
/// automatically (<c>RaftCache:QuorumLossRecovery=Automatic</c>) the group is re-formed from the survivor, which had
/// applied every write, so nothing is lost.
/// </summary>
/// <remarks>
/// Orleans declares the killed silos dead with one vote, the survivor's, once they are stale (no IAmAlive for
/// <c>Membership:IAmAliveTablePublishTimeout</c> × <c>NumMissedTableIAmAliveLimit</c>, 2 s × 3 here): until then it
/// would need the default two votes, which one live silo cannot give. Recovery waits for that declaration.
/// </remarks>
[Collection(ProcessCollection.Name)]
public sealed class QuorumLossTests(ITestOutputHelper output)
{
    private const int KeysBeforeKill = 40;

    /// <summary>
    /// The group is unavailable after the kill; <c>recover</c> without <c>--confirm</c> prints the plan and exits with
    /// 13 once Orleans has declared the silos dead; <c>recover --confirm</c> re-forms the group (exit 0); writes and
    /// linearizable reads work again, every key keeps its value, and replacement silos bring the group back to 3 voters.
    /// </summary>
    [Fact]
    public async Task ManualRecovery_AfterTwoOfThreeVotersAreKilled_ReformsTheGroupFromTheSurvivorWithNoLoss()
    {
        var watch = Stopwatch.StartNew();
        await using var cluster = await DeploymentCluster.StartAsync(silos: 3);
        await RunAsync(cluster, watch, async (survivor, written, appliedBeforeKill) =>
        {
            var cli = cluster.CliConnection;

            // Until Orleans declares the killed silos dead, recovery says NotNeeded (or Refused while a killed silo is
            // still listed as active and does not answer); after, it plans. The CLI's dry run at once says either.
            var early = await CliAsync(cli, "recover");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: raftcache recover right after the kill (exit code {early.ExitCode}):{Environment.NewLine}{early.Output}");
            Assert.True(early.ExitCode is 0 or 13 or 14, $"recover right after the kill exited with {early.ExitCode}:{Environment.NewLine}{early.Output}");
            var seen = new List<string>();
            var plan = await Eventually.WaitAsync(async () =>
            {
                var reports = await cluster.Cache.RecoverQuorumAsync().WaitAsync(Deadlines.Call);
                var answer = string.Join("; ", reports.Select(r => $"{r.Outcome}: {r.Message}"));
                if (seen.Count == 0 || seen[^1] != answer) seen.Add(answer);
                Assert.All(reports, r => Assert.True(r.Outcome is RecoveryOutcome.NotNeeded or RecoveryOutcome.Refused or RecoveryOutcome.Planned, answer));
                return reports is [{ Outcome: RecoveryOutcome.Planned }] ? reports[0] : null;
            }, Deadlines.GroupChange, "recovery to plan group 0 (Orleans to declare the killed silos dead)", cluster.Outputs);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: dry runs until the plan said:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", seen)}");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: the dry run plans: keep {plan.ChosenSilo} up to {plan.KeptIndex} (term {plan.KeptTerm}), " +
                $"last known commit {plan.LastKnownCommit}, {plan.EntriesBehindKnownCommit} behind it, {plan.EntriesCommittedByRecovery} committed by recovery; dead voters {string.Join(", ", plan.DeadVoters)}.");
            Assert.True(survivor.Hosts(new ReplicaStatus { Silo = plan.ChosenSilo! }), $"the plan keeps {plan.ChosenSilo}, not the survivor {survivor.Name}");
            Assert.Equal(0UL, plan.EntriesBehindKnownCommit);
            Assert.True(plan.KeptIndex >= appliedBeforeKill, $"the plan keeps up to {plan.KeptIndex}, below the {appliedBeforeKill} every replica had applied");
            Assert.Equal(2, plan.DeadVoters.Length);
            Assert.Single(plan.Survivors);

            // The group has no quorum: a write fails as unavailable, nothing applied.
            var put = await CliAsync(cli, "put", "during-outage", "x");
            Assert.True(put.ExitCode == 5, $"put during the outage: exit code {put.ExitCode}, expected 5 (unavailable):{Environment.NewLine}{put.Output}");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: put during the outage exited with 5: {put.Output.Trim()}");

            var dryRun = await CliAsync(cli, "recover");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: raftcache recover (exit code {dryRun.ExitCode}):{Environment.NewLine}{dryRun.Output}");
            Assert.True(dryRun.ExitCode == 13, $"recover without --confirm exited with {dryRun.ExitCode}, expected 13:{Environment.NewLine}{dryRun.Output}");
            Assert.Contains("Group 0: Planned", dryRun.Output, StringComparison.Ordinal);
            Assert.Matches(@"behind known commit\s+0 ", dryRun.Output);
            Assert.Contains("run again with --confirm", dryRun.Output, StringComparison.Ordinal);
            Assert.Equal(0UL, (await cluster.StatusAsync()).Replicas.First(survivor.Hosts).Epoch);

            var confirmed = await CliAsync(cli, "recover", "--confirm");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: raftcache recover --confirm (exit code {confirmed.ExitCode}):{Environment.NewLine}{confirmed.Output}");
            Assert.True(confirmed.ExitCode == 0, $"recover --confirm exited with {confirmed.ExitCode}:{Environment.NewLine}{confirmed.Output}");
            Assert.Contains("Group 0: Recovered", confirmed.Output, StringComparison.Ordinal);
            Assert.Matches(@"behind known commit\s+0 ", confirmed.Output);
            var epoch = ulong.Parse(Regex.Match(confirmed.Output, @"new epoch\s+(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(epoch > 0, confirmed.Output);

            // Writes and linearizable reads through the CLI work again.
            var after = await CliAsync(cli, "put", "after-recovery", "written-after");
            Assert.True(after.ExitCode == 0, after.Output);
            var read = await CliAsync(cli, "get", "after-recovery");
            Assert.True(read.ExitCode == 0 && read.Output.Contains("written-after", StringComparison.Ordinal), read.Output);
            written["after-recovery"] = "written-after";

            var status = await CliAsync(cli, "status");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: raftcache status (exit code {status.ExitCode}):{Environment.NewLine}{status.Output}");
            Assert.True(status.ExitCode == 0, status.Output);
            Assert.Contains($"Re-formed after losing its quorum: group 0 (epoch {epoch}).", status.Output, StringComparison.Ordinal);

            var again = await CliAsync(cli, "recover");
            Assert.True(again.ExitCode == 0 && again.Output.Contains("Group 0: NotNeeded", StringComparison.Ordinal), again.Output);
            return epoch;
        });
    }

    /// <summary>
    /// With <c>RaftCache:QuorumLossRecovery=Automatic</c> and a 3 s wait, the survivor re-forms the group by itself once
    /// Orleans has declared the killed silos dead: without any command, writes work again, every key keeps its value and
    /// the group runs in a new epoch.
    /// </summary>
    [Fact]
    public async Task AutomaticRecovery_AfterTwoOfThreeVotersAreKilled_ReformsTheGroupWithoutACommand()
    {
        var watch = Stopwatch.StartNew();
        await using var cluster = await DeploymentCluster.StartAsync(silos: 3,
            siloArgs: ["--RaftCache:QuorumLossRecovery=Automatic", "--RaftCache:QuorumLossRecoveryAfter=00:00:03"]);
        await RunAsync(cluster, watch, async (survivor, written, _) =>
        {
            // No command: the writes come back by themselves. A write that fails meanwhile is retried with a new value.
            var attempt = 0;
            var probeValue = "";
            await Eventually.WaitAsync(async () =>
            {
                probeValue = "automatic-" + ++attempt;
                await cluster.Cache.PutAsync("after-recovery", probeValue).WaitAsync(Deadlines.Call);
                return "ok";
            }, Deadlines.GroupChange, "a write to succeed after automatic recovery", cluster.Outputs);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: writes work again (attempt {attempt}).");
            written["after-recovery"] = probeValue;

            var status = await cluster.StatusAsync();
            var replica = status.Replicas.First(r => r.Group == 0 && survivor.Hosts(r));
            Assert.True(replica.Epoch > 0, $"the survivor's replica is in epoch {replica.Epoch}{Environment.NewLine}{DeploymentCluster.Describe(status)}");
            Assert.Equal(ReplicaRole.Leader, replica.Role);

            var recover = await CliAsync(cluster.CliConnection, "recover");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: raftcache recover (exit code {recover.ExitCode}):{Environment.NewLine}{recover.Output}");
            Assert.True(recover.ExitCode == 0 && recover.Output.Contains("Group 0: NotNeeded", StringComparison.Ordinal), recover.Output);
            return replica.Epoch;
        });
    }

    /// <summary>
    /// Forms the group on the three silos, writes <see cref="KeysBeforeKill"/> keys and waits until every replica applied
    /// them, kills the leader and a follower at once, runs <paramref name="recover"/> (given the survivor, the keys
    /// written and the index every replica had applied; it returns the new epoch), then checks every key, and that
    /// replacement silos join the recovered group until it has 3 voters again, all with the same state.
    /// </summary>
    private async Task RunAsync(DeploymentCluster cluster, Stopwatch watch, Func<SiloInstance, Dictionary<string, string>, ulong, Task<ulong>> recover)
    {
        try
        {
            var status = await cluster.WaitForGroupAsync(cluster.Silos, voters: 3);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: group of 3 voters formed.{Environment.NewLine}{DeploymentCluster.Describe(status)}");

            var written = Enumerable.Range(0, KeysBeforeKill).ToDictionary(i => $"before-{i}", i => $"value-{i}");
            foreach (var chunk in written.Chunk(10))
                await Task.WhenAll(chunk.Select(w => cluster.Cache.PutAsync(w.Key, w.Value).WaitAsync(Deadlines.Call)));

            // Every replica has applied every write: the survivor holds them all, whichever it is.
            var committed = (await cluster.StatusAsync()).Leader!.Commit;
            status = await Eventually.WaitAsync(async () =>
            {
                var s = await cluster.StatusAsync();
                return s.Replicas.Count(r => r.Group == 0 && r.IsReplica && r.Applied >= committed) == 3 ? s : null;
            }, Deadlines.GroupChange, $"every replica to apply index {committed}", cluster.Outputs);
            var leader = status.Leader!;
            var follower = status.Replicas.Where(r => r.Group == 0 && r.Role == ReplicaRole.Follower).OrderBy(r => r.MemberId).First();
            var victims = new[] { cluster.SiloOf(leader), cluster.SiloOf(follower) };
            var survivor = cluster.Silos.Single(s => !victims.Contains(s));
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: {written.Count} keys written, applied by every replica up to {committed}.{Environment.NewLine}{DeploymentCluster.Describe(status)}");

            foreach (var victim in victims) victim.Process.Kill();
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: killed {victims[0].Name} (the leader) and {victims[1].Name} (a follower); {survivor.Name} survives.");

            var epoch = await recover(survivor, written, committed);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: group 0 recovered in epoch {epoch}.");

            await CheckEveryKeyAsync(cluster, written, watch);

            // Replacement silos join the recovered group as usual: it has 3 voters again, every one with the same state.
            var replacements = await Task.WhenAll(cluster.StartSiloAsync(), cluster.StartSiloAsync());
            var members = new[] { survivor, replacements[0], replacements[1] };
            var final = await cluster.WaitForGroupAsync(members, voters: 3);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: {replacements[0].Name} and {replacements[1].Name} joined as voters.{Environment.NewLine}{DeploymentCluster.Describe(final)}");
            ClusterStatus? last = null;
            await Eventually.WaitAsync(async () =>
            {
                var s = last = await cluster.StatusAsync();
                var replicas = s.Replicas.Where(r => r.Group == 0 && r.IsReplica && members.Any(m => m.Hosts(r))).ToList();
                return replicas.Count == 3 && replicas.All(r => r.Applied == replicas[0].Applied && r.StateDigest == replicas[0].StateDigest && r.Epoch == epoch) ? s : null;
            }, Deadlines.GroupChange, $"the three replicas to apply the same index, with the same state, in epoch {epoch}", () => DeploymentCluster.Describe(last));
            await CheckEveryKeyAsync(cluster, written, watch);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: done.");
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{e.GetType().Name}: {e.Message}{Environment.NewLine}{cluster.Outputs()}", e);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}{Environment.NewLine}{cluster.Outputs()}", e);
        }
    }

    /// <summary>Every key written reads back its value through a linearizable read.</summary>
    private async Task CheckEveryKeyAsync(DeploymentCluster cluster, Dictionary<string, string> written, Stopwatch watch)
    {
        var reads = await Task.WhenAll(written.Select(async w => (w, read: await cluster.Cache.GetAsync(w.Key).WaitAsync(Deadlines.Call))));
        var wrong = reads.Where(r => r.read != r.w.Value).Select(r => $"{r.w.Key}: expected '{r.w.Value}', read '{r.read ?? "(none)"}'").ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {written.Count} keys do not read back their value: {string.Join("; ", wrong.Take(10))}");
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: all {written.Count} keys read back their value.");
    }

    private static Task<(int ExitCode, string Output)> CliAsync(IReadOnlyList<string> connection, params string[] args) =>
        ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. connection, .. args], Deadlines.CliRun);
}
