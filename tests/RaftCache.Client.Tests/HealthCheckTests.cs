using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace RaftCache.Client.Tests;

/// <summary>The client's health check through the health check service, as an application's endpoint runs it.</summary>
public sealed class HealthCheckTests
{
    private readonly ScriptedFacade _facade = new();

    private async Task<HealthReport> CheckAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IRaftCacheClient>(new RaftCacheClient(new ScriptedGrainFactory(_facade), new RaftCacheClientOptions { CallTimeout = TimeSpan.FromSeconds(2) }));
        services.AddHealthChecks().AddRaftCacheClientHealthCheck();
        await using var provider = services.BuildServiceProvider();
        return await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
    }

    private static ReplicaStatus Replica(int group, ReplicaRole role, ulong leader) =>
        new() { Silo = "S127.0.0.1:11111:1", Group = group, Role = role, LeaderId = leader, MemberId = 1, Healthy = leader != 0 };

    [Fact]
    public async Task EveryGroupWithALeaderIsHealthy()
    {
        _facade.Status = () => Task.FromResult(new ClusterStatus { Replicas = [Replica(0, ReplicaRole.Leader, 1), Replica(1, ReplicaRole.Leader, 1)] });
        var report = await CheckAsync();
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal(2, report.Entries["raftcache-client"].Data["groups"]);
    }

    [Fact]
    public async Task AGroupWithoutALeaderIsDegraded()
    {
        _facade.Status = () => Task.FromResult(new ClusterStatus { Replicas = [Replica(0, ReplicaRole.Leader, 1), Replica(1, ReplicaRole.PreCandidate, 0)] });
        var report = await CheckAsync();
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("Group(s) 1 of 2", report.Entries["raftcache-client"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClusterThatCannotBeReachedIsUnhealthy()
    {
        _facade.Status = () => throw new Orleans.Runtime.Messaging.ConnectionFailedException("Unable to connect to endpoint S127.0.0.1:30000:0.");
        var report = await CheckAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.IsType<CacheUnavailableException>(report.Entries["raftcache-client"].Exception);
    }

    [Fact]
    public async Task AClusterWithoutGroupsIsUnhealthy()
    {
        _facade.Status = () => Task.FromResult(new ClusterStatus { Replicas = [new ReplicaStatus { Silo = "S127.0.0.1:11111:1", Role = ReplicaRole.Joining }] });
        var report = await CheckAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
    }
}
