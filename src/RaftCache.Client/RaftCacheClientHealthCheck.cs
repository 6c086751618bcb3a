using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace RaftCache.Client;

/// <summary>
/// Whether the cluster answers this client, for a client application's health endpoint: <b>healthy</b> when the
/// status call answers and every group has a leader, <b>degraded</b> when it answers but some group has none (its
/// keys are unavailable until an election ends) or some silo did not answer, <b>unhealthy</b> when the cluster cannot
/// be reached within the client's call timeout.
/// </summary>
internal sealed class RaftCacheClientHealthCheck(IRaftCacheClient cache) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ClusterStatus status;
        try
        {
            status = await cache.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RaftCacheException e)
        {
            return HealthCheckResult.Unhealthy("The RaftCache cluster cannot be reached: " + e.Message, e);
        }

        var groups = status.Groups;
        var leaderless = groups.Where(g => status.LeaderOf(g) is null).ToList();
        var data = new Dictionary<string, object>
        {
            ["groups"] = groups.Length,
            ["replicas"] = status.Replicas.Count(r => r.IsReplica),
            ["unreachableSilos"] = status.Unreachable.Length,
        };
        if (groups.Length == 0) return HealthCheckResult.Unhealthy("The RaftCache cluster answers but has not formed its Raft groups yet.", data: data);
        if (leaderless.Count > 0)
        {
            data["leaderless"] = leaderless;
            return HealthCheckResult.Degraded($"Group(s) {string.Join(", ", leaderless)} of {groups.Length} have no leader: their keys are unavailable until an election ends.", data: data);
        }

        if (status.Unreachable.Length > 0) return HealthCheckResult.Degraded($"{status.Unreachable.Length} silo(s) did not answer: {string.Join("; ", status.Unreachable)}", data: data);
        return HealthCheckResult.Healthy($"Every one of the {groups.Length} group(s) has a leader.", data);
    }
}

/// <summary>Registers the RaftCache client's health check.</summary>
public static class RaftCacheClientHealthCheckExtensions
{
    /// <summary>
    /// Adds a check that the RaftCache cluster answers this application's <see cref="IRaftCacheClient"/> and that every
    /// group has a leader (registered with <c>AddRaftCacheClient()</c>).
    /// </summary>
    public static IHealthChecksBuilder AddRaftCacheClientHealthCheck(this IHealthChecksBuilder builder, string name = "raftcache-client", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, services => new RaftCacheClientHealthCheck(services.GetRequiredService<IRaftCacheClient>()), HealthStatus.Unhealthy, tags));
    }
}
