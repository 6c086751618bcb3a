using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RaftCache.Server.Host;

namespace RaftCache.Server;

/// <summary>
/// The health of this silo's replicas, for a silo's health endpoint: <b>unhealthy</b> while the cluster has not formed
/// its groups, or when a replica stopped (a committed entry could not be applied) or its group has no leader (an
/// election, or no quorum reachable); <b>degraded</b> when a replica is more than
/// <see cref="RaftCacheHealthCheckOptions.MaxLag"/> entries behind its commit index; <b>healthy</b> otherwise,
/// including a silo that holds no replica.
/// </summary>
internal sealed class RaftCacheHealthCheck(LocalReplica localReplica, RaftCacheHealthCheckOptions options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (localReplica.Host is not { } host) return HealthCheckResult.Unhealthy("The RaftCache replica service has not started.");
        if (host.Layout is null) return HealthCheckResult.Unhealthy("The cluster has not formed its Raft groups yet.");
        var statuses = await host.GetStatusLocal().WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
        var replicas = statuses.Where(r => r.IsReplica).ToList();
        var data = new Dictionary<string, object>
        {
            ["replicas"] = replicas.Count,
            ["leading"] = replicas.Count(r => r.Role == ReplicaRole.Leader),
        };
        var stopped = replicas.Where(r => r.Message?.StartsWith("Stopped", StringComparison.Ordinal) == true).Select(r => r.Group).ToList();
        var leaderless = replicas.Where(r => r.LeaderId == 0).Select(r => r.Group).ToList();
        var lagging = replicas.Where(r => r.Commit > r.Applied + (ulong)options.MaxLag).Select(r => r.Group).ToList();
        if (stopped.Count > 0) data["stopped"] = stopped;
        if (leaderless.Count > 0) data["leaderless"] = leaderless;
        if (lagging.Count > 0) data["lagging"] = lagging;

        if (stopped.Count > 0) return HealthCheckResult.Unhealthy($"The replica of group(s) {string.Join(", ", stopped)} stopped: a committed entry could not be applied.", data: data);
        if (leaderless.Count > 0) return HealthCheckResult.Unhealthy($"Group(s) {string.Join(", ", leaderless)} know no leader: an election is running or no quorum is reachable.", data: data);
        if (lagging.Count > 0) return HealthCheckResult.Degraded($"The replica of group(s) {string.Join(", ", lagging)} is more than {options.MaxLag} entries behind its commit index.", data: data);
        return HealthCheckResult.Healthy(replicas.Count == 0 ? "This silo holds no replica." : $"{replicas.Count} replica(s) applying, every group has a leader.", data);
    }
}

/// <summary>Settings of the silo's RaftCache health check.</summary>
public sealed class RaftCacheHealthCheckOptions
{
    /// <summary>Applied entries a replica may trail its commit index by before it reports degraded. Default 10,000.</summary>
    public long MaxLag { get; set; } = 10_000;

    /// <summary>How long the check waits for the replica service's status. Default 5 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Registers the silo's RaftCache health check.</summary>
public static class RaftCacheHealthCheckExtensions
{
    /// <summary>
    /// Adds the health of this silo's RaftCache replicas (see the check's rules in the docs: unhealthy without groups,
    /// with a stopped replica or a leaderless group; degraded when a replica lags) to the silo's health checks.
    /// </summary>
    public static IHealthChecksBuilder AddRaftCacheHealthCheck(this IHealthChecksBuilder builder, string name = "raftcache", Action<RaftCacheHealthCheckOptions>? configure = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new RaftCacheHealthCheckOptions();
        configure?.Invoke(options);
        if (options.MaxLag < 0) throw new ArgumentOutOfRangeException(nameof(configure), $"{nameof(RaftCacheHealthCheckOptions.MaxLag)} must not be negative (is {options.MaxLag}).");
        if (options.Timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(configure), $"{nameof(RaftCacheHealthCheckOptions.Timeout)} must be positive (is {options.Timeout}).");
        return builder.Add(new HealthCheckRegistration(name, services => new RaftCacheHealthCheck(services.GetRequiredService<LocalReplica>(), options), HealthStatus.Unhealthy, tags));
    }
}
