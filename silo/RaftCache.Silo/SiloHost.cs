using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using RaftCache.Tls;
using StackExchange.Redis;

namespace RaftCache.Silo;

/// <summary>The settings of one silo to host, after the development cluster assigned its ports.</summary>
/// <param name="Options">The validated host options.</param>
/// <param name="SiloPort">This silo's silo-to-silo port.</param>
/// <param name="GatewayPort">This silo's client gateway port.</param>
/// <param name="Primary">Localhost clustering: the primary's silo endpoint.</param>
/// <param name="Name">The silo name, or null for Orleans' default.</param>
internal sealed record SiloPlan(SiloHostOptions Options, int SiloPort, int GatewayPort, IPEndPoint Primary, string? Name)
{
    public IPEndPoint SiloEndpoint => new(Options.IPAddress, SiloPort);

    public IPEndPoint GatewayEndpoint => new(Options.IPAddress, GatewayPort);
}

/// <summary>Builds the generic host of one silo.</summary>
internal static class SiloHost
{
    /// <summary>
    /// The configuration every silo of this process reads: <c>appsettings.json</c> next to the program, environment
    /// variables (<c>RaftCache__TickInterval</c>, <c>Silo__Mode</c>, ...), then the command line, which wins.
    /// </summary>
    public static void AddSources(IConfigurationBuilder configuration, string[] args)
    {
        configuration.SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true, reloadOnChange: false)
            .AddEnvironmentVariables()
            .AddCommandLine(args, SiloHostOptions.SwitchMappings.ToDictionary());
    }

    public static IHost Build(SiloPlan plan, string[] args, bool ownsConsoleLifetime)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        AddSources(builder.Configuration, args);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddQuietConsole();

        // The replica hands leadership over and asks to be removed while its grain service stops; the default
        // 30 s host limit is more than enough, a shorter one is configurable, and too short a limit cuts that short.
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = plan.Options.ShutdownTimeout);
        // The host's default lifetime stops it on Ctrl+C and SIGTERM; the development cluster replaces it.
        if (!ownsConsoleLifetime) builder.Services.AddSingleton<IHostLifetime, ExternalLifetime>();
        builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);

        var membership = builder.Configuration.GetSection("Membership");
        builder.UseOrleans(silo =>
        {
            var options = plan.Options;
            silo.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = options.ClusterId;
                cluster.ServiceId = options.ServiceId;
            });
            if (options.Clustering == ClusteringKind.Redis)
            {
                // AbortOnConnectFail stays on (the default): an unreachable server fails start-up with a clear error.
                var redis = ConfigurationOptions.Parse(options.Redis!);
                silo.UseRedisClustering(redisOptions => redisOptions.ConfigurationOptions = redis);
                silo.Configure<EndpointOptions>(endpoints =>
                {
                    endpoints.AdvertisedIPAddress = options.IPAddress;
                    endpoints.SiloPort = plan.SiloPort;
                    endpoints.GatewayPort = plan.GatewayPort;
                });
            }
            else
            {
                silo.UseLocalhostClustering(plan.SiloPort, plan.GatewayPort, plan.Primary, options.ServiceId, options.ClusterId);
                silo.Configure<EndpointOptions>(endpoints => endpoints.AdvertisedIPAddress = options.IPAddress);
            }

            if (options.Tls is { } tls) UseTls(silo, tls);
            if (plan.Name is { } name) silo.Configure<SiloOptions>(silo => silo.SiloName = name);
            silo.Services.Configure<ClusterMembershipOptions>(membership);
            silo.AddRaftCache();
        });
        return builder.Build();
    }

    /// <summary>
    /// TLS on every connection of the silo. Orleans' <c>UseTls</c> applies one set of options to the silo and gateway
    /// ports alike; here silos always authenticate each other (a silo without a certificate of the cluster cannot
    /// join), while the gateway asks clients for a certificate only when configured to.
    /// </summary>
    private static void UseTls(ISiloBuilder silo, ClusterTls tls)
    {
        var peers = tls.Options(requireRemoteCertificate: true);
        var clients = tls.Options(requireRemoteCertificate: tls.RequireClientCertificate);
        silo.Configure<SiloConnectionOptions>(connections =>
        {
            connections.ConfigureSiloInboundConnection(connection => connection.UseServerTls(peers));
            connections.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(peers));
            connections.ConfigureGatewayInboundConnection(connection => connection.UseServerTls(clients));
        });
    }

    /// <summary>Adds an error per port of <paramref name="plan"/> that another process already listens on.</summary>
    public static void CheckPortsFree(SiloPlan plan, List<string> errors)
    {
        foreach (var (endpoint, what) in new[] { (plan.SiloEndpoint, "silo"), (plan.GatewayEndpoint, "gateway") })
        {
            try
            {
                using var listener = new TcpListener(endpoint);
                listener.Start();
                listener.Stop();
            }
            catch (SocketException e)
            {
                errors.Add($"The {what} port {endpoint} is not available ({e.SocketErrorCode}): is a RaftCache cluster already running? Stop it, or choose other ports.");
            }
        }
    }
}

/// <summary>
/// A host lifetime that leaves Ctrl+C and SIGTERM to the program: the development cluster stops its silos one after
/// another so that each replica can leave the group while a quorum remains.
/// </summary>
internal sealed class ExternalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
