using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using RaftCache.Client;
using RaftCache.Tls;
using StackExchange.Redis;

namespace RaftCache.Cli;

/// <summary>Where the cluster is and how long to wait for it.</summary>
/// <param name="Gateways">Static gateway endpoints (ignored with <paramref name="Redis"/>).</param>
/// <param name="Redis">A Redis connection string: find gateways in the cluster's Redis membership table.</param>
/// <param name="ClusterId">The Orleans cluster id.</param>
/// <param name="ServiceId">The Orleans service id.</param>
/// <param name="ConnectTimeout">How long to try to connect.</param>
/// <param name="RequestTimeout">How long one request may take before the client gives up on it.</param>
/// <param name="Tls">TLS to the gateways, or null for none.</param>
internal sealed record ConnectionSettings(
    IReadOnlyList<IPEndPoint> Gateways, string? Redis, string ClusterId, string ServiceId, TimeSpan ConnectTimeout, TimeSpan RequestTimeout, ClusterTls? Tls = null)
{
    /// <summary>The development cluster's gateways (see the silo's defaults).</summary>
    public static IReadOnlyList<IPEndPoint> DevGateways { get; } =
        [new(IPAddress.Loopback, 30000), new(IPAddress.Loopback, 30001), new(IPAddress.Loopback, 30002)];
}

/// <summary>The TLS options are invalid: a certificate file is missing or unreadable.</summary>
internal sealed class InvalidTlsOptionsException(string message) : Exception(message);

/// <summary>The cluster could not be reached in time.</summary>
internal sealed class ClusterUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A connected Orleans client host.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public IRaftCacheClient Cache => _host.Services.GetRequiredService<IRaftCacheClient>();

    public static async Task<ClusterConnection> ConnectAsync(ConnectionSettings settings, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var seen = new List<Exception>();
        var rejected = new List<string>();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseOrleansClient(client =>
        {
            if (settings.Redis is { } redis)
                client.UseRedisClustering(options => options.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            else
                client.UseStaticClustering([.. settings.Gateways]);
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = settings.ClusterId;
                options.ServiceId = settings.ServiceId;
            });
            client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = settings.RequestTimeout);
            if (settings.Tls is { } tls)
            {
                // Orleans closes a connection whose certificate it refuses without saying why; the reason is kept.
                var options = tls.Options(requireRemoteCertificate: true, onRejected: reason =>
                {
                    lock (rejected) rejected.Add(reason);
                });
                client.Configure<ClientConnectionOptions>(connections => connections.ConfigureConnection(connection => connection.UseClientTls(options)));
            }

            // Keep trying until the deadline: a cluster that is still starting accepts connections a moment later.
            client.UseConnectionRetryFilter(async (failure, token) =>
            {
                // Kept to tell the user why: the exception the start-up finally throws often no longer says.
                lock (seen) seen.Add(failure);
                if (deadline.Elapsed >= settings.ConnectTimeout || token.IsCancellationRequested) return false;
                await Task.Delay(TimeSpan.FromMilliseconds(250), token).ConfigureAwait(false);
                return true;
            });
            client.AddRaftCacheClient();
        });
        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token).ConfigureAwait(false);
            return new ClusterConnection(host);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            host.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            List<Exception> failures;
            lock (seen) failures = [.. seen];
            List<string> reasons;
            lock (rejected) reasons = [.. rejected];
            if (ConnectFailure.DescribeTls(settings, failures.Append(e), reasons) is { } tlsFailure) throw new ClusterUnreachableException(tlsFailure, e);
            throw new ClusterUnreachableException(await ConnectFailure.DescribeAsync(settings, failures, e, cancellationToken).ConfigureAwait(false), e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _host.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or OrleansException or TimeoutException)
        {
            // Leaving a cluster that went away is not an error of the command that already ran.
        }

        _host.Dispose();
    }
}
