using System.Diagnostics;
using Xunit.Abstractions;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// Three silo processes in deployment mode, Redis clustering against an embedded Garnet server: a SIGKILLed silo,
/// whether the first one started or the leader, neither stops the writes nor loses an acknowledged one, and a
/// replacement process joins the group as a voter.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    /// <summary>
    /// The first silo started created the group (and so usually leads it); with Redis clustering the membership table
    /// does not live in it, so its loss is survivable. The CLI then reaches the deployment through Redis too.
    /// </summary>
    [Fact]
    public Task KillingTheFirstSiloStarted_KeepsWritesGoingAndLosesNoAcknowledgedWrite() =>
        RunFailoverAsync(
            prepare: (_, status) => Task.FromResult(status),
            chooseVictim: (cluster, _) => cluster.Silos[0],
            victimDescription: "the first silo started",
            after: CliWorksAgainstTheDeploymentAsync);

    /// <summary>
    /// The first silo is stopped gracefully (SIGTERM) first, so that leadership moves to a later silo; that leader is
    /// then killed. This also checks the graceful stop: exit code 0 and the replica removed from the group.
    /// </summary>
    [Fact]
    public Task KillingTheLeader_KeepsWritesGoingAndLosesNoAcknowledgedWrite() =>
        RunFailoverAsync(
            prepare: StopFirstSiloGracefullyAndReplaceItAsync,
            chooseVictim: (cluster, status) => cluster.SiloOf(status.Leader!),
            victimDescription: "the leader",
            after: (_, _) => Task.CompletedTask);

    private async Task<ClusterStatus> StopFirstSiloGracefullyAndReplaceItAsync(DeploymentCluster cluster, ClusterStatus status)
    {
        var first = cluster.Silos[0];
        var firstMember = status.Replicas.First(first.Hosts).MemberId;
        await first.Process.TerminateAsync();
        Assert.Equal(0, await first.Process.WaitForExitAsync(Deadlines.GracefulStop));
        var remaining = cluster.Silos.Skip(1).ToList();
        var after = await cluster.WaitForGroupAsync(remaining, voters: 2);
        Assert.DoesNotContain(firstMember, after.Leader!.Voters);
        Assert.DoesNotContain(firstMember, after.Leader!.Learners);
        output.WriteLine($"{first.Name} stopped gracefully (SIGTERM, exit code 0) and left the group.");
        var replacement = await cluster.StartSiloAsync();
        return await cluster.WaitForGroupAsync([.. remaining, replacement], voters: 3);
    }

    private async Task CliWorksAgainstTheDeploymentAsync(DeploymentCluster cluster, SiloInstance replacement)
    {
        // The CLI's own timeouts come from Deadlines, and the run's deadline covers them with room to start and stop.
        var connection = cluster.CliConnection;
        var timeout = Deadlines.CliRun;
        var put = await ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. connection, "put", "cli-key", "cli-value"], timeout);
        Assert.True(put.ExitCode == 0, put.Output);
        var get = await ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. connection, "get", "cli-key"], timeout);
        Assert.True(get.ExitCode == 0 && get.Output.Contains("cli-value", StringComparison.Ordinal), get.Output);
        var missing = await ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. connection, "get", "no-such-key", "--consistency", "local"], timeout);
        Assert.True(missing.ExitCode == 1, missing.Output);
        var status = await ChildProcess.RunAsync(BuiltPrograms.CliDll, [.. connection, "status"], timeout);
        Assert.True(status.ExitCode == 0 && status.Output.Contains($":{replacement.SiloPort}:", StringComparison.Ordinal) && status.Output.Contains("Leader", StringComparison.Ordinal), status.Output);
        output.WriteLine(status.Output);
    }

    private async Task RunFailoverAsync(
        Func<DeploymentCluster, ClusterStatus, Task<ClusterStatus>> prepare,
        Func<DeploymentCluster, ClusterStatus, SiloInstance> chooseVictim,
        string victimDescription,
        Func<DeploymentCluster, SiloInstance, Task> after)
    {
        var watch = Stopwatch.StartNew();
        await using var cluster = await DeploymentCluster.StartAsync(silos: 3);
        try
        {
            var status = await cluster.WaitForGroupAsync(cluster.Silos, voters: 3);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: group of 3 voters formed.{Environment.NewLine}{DeploymentCluster.Describe(status)}");
            status = await prepare(cluster, status);
            var victim = chooseVictim(cluster, status);
            var victimReplica = status.Replicas.First(r => r.Group == 0 && victim.Hosts(r));

            long killedAt;
            IReadOnlyCollection<(string Key, string Value)> acknowledged;
            await using (var load = WriteLoad.Start(cluster.Cache, writers: 4))
            {
                await load.WaitForAcknowledgedAsync(50, Deadlines.Writes, cluster.Outputs);
                victim.Process.Kill();
                killedAt = load.Acknowledged;
                output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: killed {victim.Name} ({victimDescription}, {victimReplica.Role}, member {victimReplica.MemberId}) after {killedAt} acknowledged writes.");

                // The load must go on: a new leader (if needed) and the surviving quorum keep acknowledging writes.
                await load.WaitForAcknowledgedAsync(killedAt + 100, Deadlines.Writes, cluster.Outputs);
                output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: {load.Acknowledged - killedAt} writes acknowledged after the kill; failures: {load.Failures}.");
                acknowledged = load.AcknowledgedWrites;
            }

            var survivors = cluster.Silos.Where(s => s != victim && !s.Process.HasExited).ToList();
            var afterKill = await cluster.WaitForGroupAsync(survivors, voters: 2);
            Assert.DoesNotContain(victimReplica.MemberId, afterKill.Leader!.Voters);

            // Every acknowledged write is readable, with its value, through a linearizable read.
            var missing = new List<string>();
            foreach (var chunk in acknowledged.Chunk(32))
            {
                var reads = await Task.WhenAll(chunk.Select(async w => (w, read: await cluster.Cache.GetAsync(w.Key).WaitAsync(Deadlines.Call))));
                missing.AddRange(reads.Where(r => r.read != r.w.Value).Select(r => $"{r.w.Key}: expected '{r.w.Value}', read '{r.read ?? "(none)"}'"));
            }

            Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged writes are not readable: {string.Join("; ", missing.Take(10))}");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: all {acknowledged.Count} acknowledged writes read back.");

            // A replacement process joins: first as a member of the group, then promoted to voter.
            var replacement = await cluster.StartSiloAsync();
            var final = await cluster.WaitForGroupAsync([.. survivors, replacement], voters: 3);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: {replacement.Name} joined as a voter.{Environment.NewLine}{DeploymentCluster.Describe(final)}");
            Assert.Contains(final.Replicas.First(replacement.Hosts).MemberId, final.Leader!.Voters);
            await after(cluster, replacement);
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
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "Silo processes (serial: two cores)";
}
