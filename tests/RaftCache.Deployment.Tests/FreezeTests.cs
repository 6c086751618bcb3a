using System.Diagnostics;
using RaftCache.Client;
using Xunit.Abstractions;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// Three silo processes in deployment mode; a follower's and then the leader's process is frozen (SIGSTOP) for
/// several seconds while two cache clients read and write. A frozen process answers nothing, yet its connections stay
/// open and Orleans does not declare it dead within the freeze, so this is what a client's per-attempt timeout and its
/// spreading over gateways are for: operations that begin during the freeze complete through the other silos while
/// it lasts, nothing acknowledged is lost, and after SIGCONT the replicas converge.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FreezeTests(ITestOutputHelper output)
{
    /// <summary>
    /// How long a silo stays frozen at least: longer than the silos' request timeout, so that a call that waited out the
    /// freeze would show (the fault itself, not a wait for a condition).
    /// </summary>
    private static readonly TimeSpan MinFreeze = TimeSpan.FromSeconds(6);

    /// <summary>
    /// How long operations begun during the freeze may take to complete through the other silos while it lasts, and so
    /// the longest freeze: the client's attempt timeout (2 s) and an election (under 1 s with the tests' 50 ms ticks),
    /// several times over for a loaded machine. Kept below Orleans' failure detection (<see cref="FailureDetection"/>).
    /// </summary>
    private static readonly TimeSpan MaxFreeze = TimeSpan.FromSeconds(12);

    /// <summary>
    /// Orleans' default failure detection with a longer probe timeout: three probes missed by at least half of 10 s
    /// each, so a silo frozen for <see cref="MaxFreeze"/> is not declared dead (a dead silo would stop itself on waking).
    /// </summary>
    private static readonly IReadOnlyList<string> FailureDetection = ["--probe-timeout", "00:00:10", "--missed-probes-limit", "3"];

    /// <summary>Successful operations of each kind, begun during the freeze, that show the load kept going.</summary>
    private const int KeptGoing = 20;

    [Fact]
    public async Task FreezingAFollowerThenTheLeader_KeepsOperationsCompletingAndLosesNoAcknowledgedWrite()
    {
        var watch = Stopwatch.StartNew();
        await using var cluster = await DeploymentCluster.StartAsync(silos: 3, FailureDetection);
        try
        {
            var status = await cluster.WaitForGroupAsync(cluster.Silos, voters: 3);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: group of 3 voters formed.{Environment.NewLine}{DeploymentCluster.Describe(status)}");

            using var second = new RaftCacheClient(cluster.Grains, new RaftCacheClientOptions { CallTimeout = Deadlines.ClientCall });
            IReadOnlyList<IRaftCacheClient> caches = [cluster.Cache, second];
            var load = ReadWriteLoad.Start(caches, writers: 4, readers: 4);
            try
            {
                var follower = cluster.SiloOf(status.Replicas.First(r => r.Group == 0 && r.Role == ReplicaRole.Follower));
                await FreezeAsync(cluster, load, follower, "a follower", watch);
                status = await ConvergedAsync(cluster, watch);

                var leader = cluster.SiloOf(status.Leader!);
                await FreezeAsync(cluster, load, leader, "the leader", watch);
                await ConvergedAsync(cluster, watch);
            }
            finally
            {
                await load.DisposeAsync();
            }

            Assert.True(load.Failures == "none", $"operations failed: {load.Failures}");
            await CheckAcknowledgedWritesAsync(cluster, load, watch);

            // With the load stopped, every replica of every group applies the same index and holds the same state.
            var final = await Eventually.WaitAsync(async () =>
            {
                var s = await cluster.StatusAsync();
                if (s.Unreachable.Length > 0 || s.Replicas.Any(r => !r.Healthy)) return null;
                return s.Groups.All(g => s.Replicas.Where(r => r.IsReplica && r.Group == g).ToList() is { Count: 3 } replicas
                    && replicas.All(r => r.Applied == replicas[0].Applied && r.Commit == replicas[0].Applied && r.StateDigest == replicas[0].StateDigest))
                    ? s
                    : null;
            }, Deadlines.GroupChange, "every replica applied the same index, with the same state");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: replicas converged.{Environment.NewLine}{DeploymentCluster.Describe(final)}");
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

    /// <summary>
    /// Freezes <paramref name="silo"/> once the load runs, keeps it frozen until operations begun since kept completing
    /// (or <see cref="MaxFreeze"/>) and for <see cref="MinFreeze"/> at least, and always thaws it.
    /// </summary>
    private async Task FreezeAsync(DeploymentCluster cluster, ReadWriteLoad load, SiloInstance silo, string what, Stopwatch watch)
    {
        load.Mark(Stopwatch.GetTimestamp());
        Assert.True(await load.WaitUntilAsync(l => l.SinceMark is { Writes: >= KeptGoing, Reads: >= KeptGoing }, Deadlines.Writes), $"the load did not run: {load.Failures}");

        var frozenAt = Stopwatch.GetTimestamp();
        load.Mark(frozenAt);
        await silo.Process.FreezeAsync();
        bool keptGoing;
        TimeSpan keptGoingAfter;
        (int Writes, int Reads, TimeSpan Longest) frozen;
        try
        {
            keptGoing = await load.WaitUntilAsync(l => l.SinceMark is { Writes: >= KeptGoing, Reads: >= KeptGoing }, MaxFreeze);
            keptGoingAfter = Stopwatch.GetElapsedTime(frozenAt);
            var rest = MinFreeze - Stopwatch.GetElapsedTime(frozenAt);
            if (rest > TimeSpan.Zero) await Task.Delay(rest);
            frozen = load.SinceMark;
        }
        finally
        {
            await silo.Process.ThawAsync();
        }

        var frozenFor = Stopwatch.GetElapsedTime(frozenAt);
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: {silo.Name} ({what}) was frozen for {frozenFor.TotalSeconds:0.0} s; " +
            $"{KeptGoing} writes and reads begun after the freeze had completed {keptGoingAfter.TotalSeconds:0.0} s into it; " +
            $"during the freeze {frozen.Writes} writes and {frozen.Reads} reads begun in it completed, the longest operation that ended in it took " +
            $"{frozen.Longest.TotalSeconds:0.00} s; failures so far: {load.Failures}.");
        Assert.True(keptGoing, $"while {silo.Name} ({what}) was frozen, operations begun during the freeze did not keep completing within {MaxFreeze.TotalSeconds:0} s: {frozen.Writes} writes and {frozen.Reads} reads completed.");
        Assert.False(silo.Process.HasExited, $"{silo.Name} exited after it was thawed.");
    }

    /// <summary>
    /// Waits until every silo is again a voter following one leader per group, every replica is healthy and answers,
    /// and every replica has applied what the leader had committed when the wait began.
    /// </summary>
    private async Task<ClusterStatus> ConvergedAsync(DeploymentCluster cluster, Stopwatch watch)
    {
        var formed = await cluster.WaitForGroupAsync(cluster.Silos, voters: 3);
        var committed = formed.Groups.ToDictionary(g => g, g => formed.LeaderOf(g)!.Commit);
        ClusterStatus? last = null;
        var status = await Eventually.WaitAsync(async () =>
        {
            var s = last = await cluster.StatusAsync();
            return s.Unreachable.Length == 0 && s.Replicas.All(r => r.Healthy && (!r.IsReplica || r.Applied >= committed[r.Group])) ? s : null;
        }, Deadlines.GroupChange, "every replica healthy and caught up", () => DeploymentCluster.Describe(last));
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: every silo is a voter again and caught up.{Environment.NewLine}{DeploymentCluster.Describe(status)}");
        return status;
    }

    /// <summary>Every key reads back (linearizable) its last acknowledged value, or a later one whose outcome was unknown.</summary>
    private async Task CheckAcknowledgedWritesAsync(DeploymentCluster cluster, ReadWriteLoad load, Stopwatch watch)
    {
        var written = load.Written.ToList();
        var wrong = new List<string>();
        foreach (var chunk in written.Chunk(32))
        {
            var reads = await Task.WhenAll(chunk.Select(async w => (w, read: await cluster.Cache.GetAsync(w.Key).WaitAsync(Deadlines.Call))));
            wrong.AddRange(reads
                .Where(r => r.read != r.w.Acknowledged && !(r.read is not null && r.w.Unknown.Contains(r.read)))
                .Select(r => $"{r.w.Key}: expected '{r.w.Acknowledged ?? "(none)"}', read '{r.read ?? "(none)"}'"));
        }

        Assert.True(wrong.Count == 0, $"{wrong.Count} of {written.Count} keys do not read back their last acknowledged write: {string.Join("; ", wrong.Take(10))}");
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: all {written.Count} keys read back their last acknowledged write.");
    }
}
