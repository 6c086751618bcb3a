using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.TestingHost;
using RaftCache.Client;

// Each test class starts its own cluster, and the tests measure expiry windows of a few seconds: two clusters at once
// on a small machine would only make those windows tighter.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace RaftCache.Caching.Tests;

/// <summary>A real in-process 3-silo cluster with RaftCache, shared by the tests of one class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;
    private IServiceCollection? _clientServices;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

    /// <summary>The test cluster's own client's services: it has <c>AddRaftCacheClient()</c> and <c>AddRaftCacheDistributedCache()</c>.</summary>
    public IServiceProvider Services => Cluster.Client.ServiceProvider;

    public IRaftCacheClient Cache => Services.GetRequiredService<IRaftCacheClient>();

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo.AddRaftCache(options =>
        {
            options.TickInterval = TimeSpan.FromMilliseconds(50);
            options.BootstrapStableFor = TimeSpan.FromMilliseconds(500);
            options.MembershipCheckInterval = TimeSpan.FromMilliseconds(200);
        }));
        builder.ConfigureClientHost(host => _clientServices = host.Services);
        builder.ConfigureClient(client =>
        {
            client.AddRaftCacheClient();
            client.Services.AddRaftCacheDistributedCache();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();

        // Ready when the group has its three voters and a write and a linearizable read go through.
        await Eventually.WaitAsync(async () =>
        {
            var status = await Cache.GetStatusAsync();
            if (status.LeaderOf(0) is not { } leader || leader.Voters.Length != 3) return false;
            await Cache.PutAsync("ready", "yes");
            return await Cache.GetAsync("ready") == "yes";
        }, TimeSpan.FromSeconds(60), "the cluster to form its group of three voters and serve a write");
    }

    /// <summary>
    /// Starts another application: a host of its own with its own Orleans client connected to this cluster,
    /// <c>AddRaftCacheClient()</c> and whatever <paramref name="configure"/> adds.
    /// </summary>
    public async Task<IHost> StartApplicationAsync(Action<IServiceCollection> configure)
    {
        // The test cluster connects its clients through an in-memory transport and gateway list of its own, which it
        // registers only in the client it creates; a second client reuses those two registrations.
        var services = _clientServices ?? throw new InvalidOperationException("Not started.");
        var transport = services.Last(d => d.IsKeyedService && d.ServiceType == typeof(IConnectionFactory));
        var gateways = services.Last(d => d.ServiceType == typeof(IGatewayListProvider));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Development });
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = Cluster.Options.ClusterId;
                options.ServiceId = Cluster.Options.ServiceId;
            });
            client.Services.Add(gateways);
            client.Services.Add(transport);
            client.AddRaftCacheClient();
        });
        configure(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public async Task DisposeAsync()
    {
        if (_cluster is null) return;
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }
}
