using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RaftCache.Server;

namespace RaftCache.Silo;

/// <summary>
/// The development cluster: several silos on loopback in this one process with localhost clustering (the first silo
/// holds the membership table), on fixed ports so that the client finds it with no options.
/// </summary>
internal static class DevCluster
{
    public static async Task<int> RunAsync(SiloHostOptions options, string[] args)
    {
        var primary = new IPEndPoint(options.IPAddress, options.SiloPort);
        var plans = Enumerable.Range(0, options.DevSilos)
            .Select(i => new SiloPlan(options, options.SiloPort + i, options.GatewayPort + i, primary, $"{options.Name ?? "silo"}{i + 1}"))
            .ToList();
        var errors = new List<string>();
        foreach (var plan in plans) SiloHost.CheckPortsFree(plan, errors);
        if (errors.Count > 0) return Program.Failed(errors);

        using var stopping = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            // Keep the process alive: the silos stop one after another below.
            context.Cancel = true;
            stopping.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var hosts = new List<IHost>();
        LiveView? view = null;
        string? viewNote = null;
        try
        {
            Console.WriteLine($"Starting a RaftCache development cluster of {plans.Count} silos on {options.Address}...");
            // The primary first: it holds the membership table the others join through.
            var first = SiloHost.Build(plans[0], args, ownsConsoleLifetime: false);
            hosts.Add(first);
            Program.ValidateOptions(first);
            if (options.ViewListenUrl is { } url)
            {
                try
                {
                    view = await Program.StartViewAsync(url, first).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    // The view is an extra of the development cluster: a port in use (another cluster's view) does not stop it.
                    viewNote = $"not started on {url}: {e.Message} (--view-port PORT chooses another port, --no-view turns it off)";
                }
            }

            await first.StartAsync(stopping.Token).ConfigureAwait(false);
            var others = plans.Skip(1).Select(plan => SiloHost.Build(plan, args, ownsConsoleLifetime: false)).ToList();
            hosts.AddRange(others);
            await Task.WhenAll(others.Select(host => host.StartAsync(stopping.Token))).ConfigureAwait(false);

            var raftOptions = Program.Service<IOptions<RaftCacheOptions>>(first).Value;
            var status = await WaitForLeaderAsync(Program.Service<IGrainFactory>(first), raftOptions.Groups, Math.Min(plans.Count, raftOptions.Voters), options.ReadyTimeout, stopping.Token).ConfigureAwait(false);
            PrintReady(options, plans, status, view is not null ? $"{view.Url} (JSON: {view.Url}api/status)" : viewNote);
            await Task.Delay(Timeout.Infinite, stopping.Token).ConfigureAwait(false);
            return Program.ExitOk;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return Program.ExitOk;
        }
        catch (OptionsValidationException e)
        {
            return Program.InvalidOptions(e.Failures);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Program.Failed([e is TimeoutException ? e.Message : Program.Describe(e)]);
        }
        finally
        {
            if (view is not null) await view.DisposeAsync().ConfigureAwait(false);
            await StopAllAsync(hosts, options.ShutdownTimeout).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops the silos in reverse order, one at a time: each replica leaves the group while the others still form a
    /// quorum, and the primary, which holds the membership table, goes last.
    /// </summary>
    private static async Task StopAllAsync(List<IHost> hosts, TimeSpan timeout)
    {
        if (hosts.Count > 0) Console.WriteLine("Stopping the development cluster...");
        for (var i = hosts.Count - 1; i >= 0; i--)
        {
            try
            {
                using var deadline = new CancellationTokenSource(timeout);
                await hosts[i].StopAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"RaftCache silo: silo {i + 1} did not stop cleanly: {e.Message}");
            }
            finally
            {
                if (hosts[i] is IAsyncDisposable disposable) await disposable.DisposeAsync().ConfigureAwait(false);
                else hosts[i].Dispose();
            }
        }

        if (hosts.Count > 0) Console.WriteLine("Stopped.");
    }

    /// <summary>Asks the façade for the status until every group has one leader of <paramref name="voters"/> voters that its replicas follow.</summary>
    private static async Task<ClusterStatus> WaitForLeaderAsync(IGrainFactory grains, int groups, int voters, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var facade = grains.GetGrain<IRaftCacheGrain>(0);
        var watch = Stopwatch.StartNew();
        ClusterStatus? last = null;
        string? lastError = null;
        while (watch.Elapsed < timeout)
        {
            try
            {
                var status = last = await facade.GetStatus().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                if (status.Groups.Length == groups && status.Groups.All(group =>
                        status.LeaderOf(group) is { } leader && leader.Voters.Length == voters && leader.Learners.Length == 0
                        && status.Replicas.Where(r => r.Group == group).All(r => r.GroupId == leader.GroupId && r.LeaderId == leader.MemberId)))
                    return status;
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                lastError = e.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }

        var seen = last is null ? "no status" : string.Join("; ", last.Replicas.Select(r => $"group {r.Group} {r.Silo} {r.Role} term {r.Term}"));
        throw new TimeoutException($"Not every one of the {groups} groups had a leader with {voters} voters within {timeout.TotalSeconds:0} s (last seen: {seen}{(lastError is null ? "" : "; last error: " + lastError)}).");
    }

    private static void PrintReady(SiloHostOptions options, List<SiloPlan> plans, ClusterStatus status, string? view)
    {
        Console.WriteLine($"RaftCache development cluster ready: {plans.Count} silos, Raft groups: {status.Groups.Length}, cluster id '{options.ClusterId}', localhost clustering (primary {plans[0].SiloEndpoint}).");
        foreach (var plan in plans)
        {
            var replicas = status.Replicas.Where(r => r.IsReplica && r.Silo.Contains($":{plan.SiloPort}:", StringComparison.Ordinal)).ToList();
            Console.WriteLine($"  {plan.Name,-6} silo {plan.SiloEndpoint,-16} gateway {plan.GatewayEndpoint,-16} member {replicas.FirstOrDefault()?.MemberId}, replicas: {replicas.Count}, leading: {replicas.Count(r => r.Role == ReplicaRole.Leader)}");
        }

        // The client finds the default ports by itself; other ports need --gateway.
        var gateway = options.GatewayPort == SiloHostOptions.DevGatewayPort ? "" : $" --gateway {plans[0].GatewayEndpoint}";
        Console.WriteLine($"Gateways: {string.Join(", ", plans.Select(p => p.GatewayEndpoint))}. Try: client/raftcache{gateway} status");
        if (view is not null) Console.WriteLine($"Live view: {view}");
        Console.WriteLine("Press Ctrl+C to stop.");
    }
}
