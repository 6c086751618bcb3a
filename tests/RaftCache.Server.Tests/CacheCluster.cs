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
            silo.Services.AddHealthChecks().AddRaftCacheHealthCheck();
            silo.AddOutgoingGrainCallFilter<RaftFaultFilter>();
            silo.AddRaftCache(options =>
            {
                options.TickInterval = TimeSpan.FromMilliseconds(50);
                options.BootstrapStableFor = TimeSpan.FromMilliseconds(500);
                options.MembershipCheckInterval = TimeSpan.FromMilliseconds(200);
                // One group unless a test asks for more: most tests are about one group's behaviour.
                options.Groups = 1;
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
                return (silo, (ReplicaStatus[]?)null, e.Message);
            }
        }));
        return new ClusterStatus
        {
            // Only replicas: a silo that holds none reports one entry with the role None (or Joining).
            Replicas = [.. replies.Where(r => r.Item2 is not null).SelectMany(r => r.Item2!).Where(r => r.IsReplica)
                .OrderBy(r => r.Group).ThenBy(r => r.Silo, StringComparer.Ordinal)],
            Unreachable = [.. replies.Where(r => r.Item2 is null).Select(r => $"{r.silo.SiloAddress}: {r.Item3}")],
        };
    }

    /// <summary>
    /// Waits until each of the <paramref name="groups"/> groups has one leader with <paramref name="voters"/> voters
    /// (and <paramref name="learners"/> learners, if given), every replica of the group follows it and has applied what
    /// it applied, and no silo holds a replica outside its group's configuration.
    /// </summary>
    public async Task WaitForStableGroupAsync(int voters, TimeSpan timeout, int? learners = null, int groups = 1)
    {
        ClusterStatus? last = null;
        try
        {
            await Eventually.WaitAsync(async () =>
        {
            var status = last = await StatusAsync();
            if (status.Unreachable.Length > 0) return false;
            for (var group = 0; group < groups; group++)
            {
                var leader = status.LeaderOf(group);
                if (leader is null) return false;
                var replicas = status.Replicas.Where(r => r.Group == group).ToList();
                if (leader.Voters.Length != voters || (learners is not null && leader.Learners.Length != learners)) return false;
                if (replicas.Count != leader.Voters.Length + leader.Learners.Length) return false;
                if (!replicas.All(r => r.GroupId == leader.GroupId && r.LeaderId == leader.MemberId && r.Applied == leader.Applied)) return false;
            }

            return status.Groups.Length == groups;
        }, timeout, $"{groups} group(s), each with {voters} voters and one leader followed by every replica");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + Environment.NewLine + Describe(last), e);
        }
    }

    public static string Describe(ClusterStatus? status) => status is null ? "(no status)" : string.Join(Environment.NewLine,
        status.Replicas.Select(r => $"g{r.Group} {r.Silo} id={r.MemberId} role={r.Role} term={r.Term} leader={r.LeaderId} first={r.FirstIndex} commit={r.Commit} applied={r.Applied} entries={r.EntryCount} log={r.LogBytes}B group={r.GroupId} voters=[{string.Join(",", r.Voters)}] learners=[{string.Join(",", r.Learners)}] {r.Message}")
        .Concat(status.Unreachable.Select(u => "unreachable " + u)));

    public async Task<InProcessSiloHandle> LeaderSiloAsync()
    {
        var leader = (await StatusAsync()).Leader ?? throw new InvalidOperationException("No leader.");
        return Cluster.Silos.Single(s => s.SiloAddress.ToString() == leader.Silo);
    }

    /// <summary>Snapshots, and their pieces, sent by every active silo so far (leadership may move between silos).</summary>
    public (long Snapshots, long Pieces) SnapshotsSent()
    {
        var instruments = Cluster.GetActiveSilos().Select(SiloService<RaftCacheInstruments>).ToList();
        return (instruments.Sum(i => i.SnapshotsSent), instruments.Sum(i => i.SnapshotPiecesSent));
    }

    /// <summary>The silo's health report, as its health endpoint would give it.</summary>
    public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport> HealthAsync(InProcessSiloHandle silo) =>
        SiloService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>(silo).CheckHealthAsync();

    public T SiloService<T>(InProcessSiloHandle silo) where T : notnull =>
        Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<T>();

    /// <summary>The replica service of <paramref name="silo"/>, called directly (bypassing the façade's routing).</summary>
    internal Transport.IRaftReplica Replica(InProcessSiloHandle silo) =>
        SiloService<Transport.IRaftReplicaClient>(silo).For(silo.SiloAddress);

    /// <summary>The status of <paramref name="silo"/>'s replica of <paramref name="group"/>, or its None entry if it holds none.</summary>
    internal async Task<ReplicaStatus> ReplicaStatusAsync(InProcessSiloHandle silo, int group = 0)
    {
        var statuses = await Replica(silo).GetStatus();
        return statuses.FirstOrDefault(s => s.Group == group && s.IsReplica) ?? statuses[0];
    }

    /// <summary>Waits until every active replica has applied everything the leader committed, and returns the status.</summary>
    public async Task<ClusterStatus> WaitForQuiescenceAsync(TimeSpan timeout)
    {
        ClusterStatus? last = null;
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                var status = last = await StatusAsync();
                if (status.Unreachable.Length > 0 || status.Groups.Length == 0) return false;
                foreach (var group in status.Groups)
                {
                    var leader = status.LeaderOf(group);
                    var replicas = status.Replicas.Where(r => r.Group == group).ToList();
                    if (leader is null || replicas.Count != leader.Voters.Length + leader.Learners.Length) return false;
                    if (!replicas.All(r => r.LeaderId == leader.MemberId && r.Applied == leader.Commit && r.Commit == leader.Commit)) return false;
                }

                return true;
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
