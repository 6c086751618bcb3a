using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.TestingHost;
using RaftCache.Client;

namespace RaftCache.Server.Tests;

/// <summary>A real in-process Orleans cluster with RaftCache on every silo, tuned for fast failure detection.</summary>
public sealed class CacheCluster : IAsyncDisposable
{
    private CacheCluster(InProcessTestCluster cluster, RaftFaults faults)
    {
        Cluster = cluster;
        Faults = faults;
    }

    public InProcessTestCluster Cluster { get; }

    /// <summary>Partitions and delays of replica calls, shared by every silo of this cluster.</summary>
    public RaftFaults Faults { get; }

    public IRaftCacheClient Cache => Cluster.Client.ServiceProvider.GetRequiredService<IRaftCacheClient>();

    public IRaftCacheGrain Facade => Cluster.Client.GetGrain<IRaftCacheGrain>(0);

    public static async Task<CacheCluster> StartAsync(int silos, Action<RaftCacheOptions>? configure = null)
    {
        var faults = new RaftFaults();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((options, silo) =>
        {
            if (TestLogProvider.Path is { } logPath) silo.Services.AddLogging(logging => logging.AddProvider(new TestLogProvider(logPath, options.SiloName)));
            silo.Services.AddSingleton(faults);
            silo.AddOutgoingGrainCallFilter<RaftFaultFilter>();
            silo.AddRaftCache(options =>
            {
                options.TickInterval = TimeSpan.FromMilliseconds(50);
                options.BootstrapStableFor = TimeSpan.FromMilliseconds(500);
                options.MembershipCheckInterval = TimeSpan.FromMilliseconds(200);
                configure?.Invoke(options);
            });
            silo.Configure<ClusterMembershipOptions>(options =>
            {
                // Declare a killed silo dead in about two seconds, not the default fifteen or more; not lower, so
                // that a busy two-core machine does not declare live silos dead.
                options.ProbeTimeout = TimeSpan.FromSeconds(1);
                options.NumMissedProbesLimit = 2;
                options.NumVotesForDeathDeclaration = 1;
                options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            });
        });
        builder.ConfigureClient(client =>
        {
            client.AddRaftCacheClient();
            // A call in flight to a killed silo otherwise waits the default 30 s.
            client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new CacheCluster(cluster, faults);
    }

    /// <summary>
    /// Every active silo's replica status, asked by each silo of its own replica, so that a partition of replica
    /// calls (which also cuts the façade's status calls across it) does not hide anyone.
    /// </summary>
    public async Task<ClusterStatus> StatusAsync()
    {
        var silos = Cluster.GetActiveSilos().ToList();
        var replies = await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                return (silo, await Replica(silo).GetStatus().WaitAsync(TimeSpan.FromSeconds(5)), (string?)null);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return (silo, (ReplicaStatus?)null, e.Message);
            }
        }));
        return new ClusterStatus
        {
            Replicas = [.. replies.Where(r => r.Item2 is not null).Select(r => r.Item2!).OrderBy(r => r.Silo, StringComparer.Ordinal)],
            Unreachable = [.. replies.Where(r => r.Item2 is null).Select(r => $"{r.silo.SiloAddress}: {r.Item3}")],
        };
    }

    /// <summary>Waits until one leader leads a group with <paramref name="voters"/> voters that every active replica follows.</summary>
    public async Task WaitForStableGroupAsync(int voters, TimeSpan timeout, int? learners = null)
    {
        ClusterStatus? last = null;
        try
        {
            await Eventually.WaitAsync(async () =>
        {
            var status = last = await StatusAsync();
            var leader = status.Leader;
            if (leader is null || status.Unreachable.Length > 0) return false;
            var active = Cluster.GetActiveSilos().Count();
            return status.Replicas.Length == active
                && leader.Voters.Length == voters
                && (learners is null || leader.Learners.Length == learners)
                && status.Replicas.All(r => r.GroupId == leader.GroupId && r.LeaderId == leader.MemberId && r.Applied == leader.Applied);
        }, timeout, $"a group with {voters} voters and one leader followed by every replica");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + Environment.NewLine + Describe(last), e);
        }
    }

    public static string Describe(ClusterStatus? status) => status is null ? "(no status)" : string.Join(Environment.NewLine,
        status.Replicas.Select(r => $"{r.Silo} id={r.MemberId} role={r.Role} term={r.Term} leader={r.LeaderId} first={r.FirstIndex} commit={r.Commit} applied={r.Applied} entries={r.EntryCount} log={r.LogBytes}B group={r.GroupId} voters=[{string.Join(",", r.Voters)}] learners=[{string.Join(",", r.Learners)}] {r.Message}")
        .Concat(status.Unreachable.Select(u => "unreachable " + u)));

    public async Task<InProcessSiloHandle> LeaderSiloAsync()
    {
        var leader = (await StatusAsync()).Leader ?? throw new InvalidOperationException("No leader.");
        return Cluster.Silos.Single(s => s.SiloAddress.ToString() == leader.Silo);
    }

    public T SiloService<T>(InProcessSiloHandle silo) where T : notnull =>
        Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<T>();

    /// <summary>The replica of <paramref name="silo"/>, called directly (bypassing the façade's routing).</summary>
    internal Transport.IRaftReplica Replica(InProcessSiloHandle silo) =>
        SiloService<Transport.IRaftReplicaClient>(silo).For(silo.SiloAddress);

    /// <summary>Waits until every active replica has applied everything the leader committed, and returns the status.</summary>
    public async Task<ClusterStatus> WaitForQuiescenceAsync(TimeSpan timeout)
    {
        ClusterStatus? last = null;
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                var status = last = await StatusAsync();
                var leader = status.Leader;
                return leader is not null && status.Unreachable.Length == 0
                    && status.Replicas.Length == Cluster.GetActiveSilos().Count()
                    && status.Replicas.All(r => r.LeaderId == leader.MemberId && r.Applied == leader.Commit && r.Commit == leader.Commit);
            }, timeout, "every replica to apply the leader's commit index");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + Environment.NewLine + Describe(last), e);
        }

        return last!;
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>Waiting on conditions with a deadline, never on fixed sleeps.</summary>
public static class Eventually
{
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (watch.Elapsed < timeout)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                last = e;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Timed out after {timeout} waiting for {what}." + (last is null ? "" : $" Last error: {last.GetType().Name}: {last.Message}"));
    }
}
