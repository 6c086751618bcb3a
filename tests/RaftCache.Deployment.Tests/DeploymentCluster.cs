using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using RaftCache.Client;
using StackExchange.Redis;

namespace RaftCache.Deployment.Tests;

/// <summary>TLS for a deployment: the CA, the silos' certificate and the test client's certificate.</summary>
/// <param name="Certificates">The test CA and the files it issued.</param>
/// <param name="SiloPfx">The certificate every silo uses.</param>
/// <param name="ClientPfx">The test client's certificate.</param>
/// <param name="RequireClientCertificate">Whether the silos require client certificates.</param>
public sealed record DeploymentTls(TestCertificates Certificates, string SiloPfx, string ClientPfx, bool RequireClientCertificate)
{
    /// <summary>The silo options for this TLS setup.</summary>
    public IReadOnlyList<string> SiloArgs =>
    [
        "--tls-certificate", SiloPfx, "--tls-password", TestCertificates.Password, "--tls-ca", Certificates.CaPath,
        .. RequireClientCertificate ? ["--tls-require-client-certificate"] : Array.Empty<string>(),
    ];

    /// <summary>The CLI options of a trusted client with its certificate.</summary>
    public IReadOnlyList<string> CliArgs => ["--tls-ca", Certificates.CaPath, "--tls-certificate", ClientPfx, "--tls-password", TestCertificates.Password];
}

/// <summary>One silo process of the deployment.</summary>
public sealed record SiloInstance(string Name, int SiloPort, int GatewayPort, ChildProcess Process)
{
    /// <summary>Whether <paramref name="replica"/> lives on this silo (the silo address is S127.0.0.1:port:generation).</summary>
    public bool Hosts(ReplicaStatus replica) => replica.Silo.Contains($":{SiloPort}:", StringComparison.Ordinal);
}

/// <summary>
/// Silo processes in deployment mode with Redis clustering against an embedded Garnet server, and an Orleans client in
/// this process. Every process is killed on dispose, also when the test failed.
/// </summary>
public sealed class DeploymentCluster : IAsyncDisposable
{
    private readonly EmbeddedGarnet _garnet;
    private readonly string _clusterId = "deploy-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<SiloInstance> _silos = [];
    private readonly IReadOnlyList<string> _failureDetection;
    private readonly IReadOnlyList<string> _siloArgs;
    private IHost? _client;
    private int _started;

    private readonly DeploymentTls? _tls;

    private DeploymentCluster(EmbeddedGarnet garnet, IReadOnlyList<string> failureDetection, DeploymentTls? tls, IReadOnlyList<string> siloArgs)
    {
        _garnet = garnet;
        _failureDetection = failureDetection;
        _tls = tls;
        _siloArgs = siloArgs;
    }

    /// <summary>Declares a killed silo dead in about two seconds rather than fifteen or more: the failover tests' setting.</summary>
    public static IReadOnlyList<string> FastFailureDetection { get; } =
    [
        "--probe-timeout", "00:00:01", "--missed-probes-limit", "2", "--table-refresh-timeout", "00:00:02",
        "--Membership:IAmAliveTablePublishTimeout=00:00:02",
    ];

    public IReadOnlyList<SiloInstance> Silos => _silos;

    public string RedisConnection => _garnet.ConnectionString;

    public string ClusterId => _clusterId;

    public IRaftCacheClient Cache => _client!.Services.GetRequiredService<IRaftCacheClient>();

    public IRaftCacheGrain Facade => _client!.Services.GetRequiredService<IClusterClient>().GetGrain<IRaftCacheGrain>(0);

    /// <summary>The test's Orleans client, for further cache clients over it.</summary>
    public IGrainFactory Grains => _client!.Services.GetRequiredService<IClusterClient>();

    /// <summary>
    /// Starts <paramref name="silos"/> silo processes with <paramref name="failureDetection"/> (<see cref="FastFailureDetection"/>
    /// if null), with <paramref name="tls"/> if given, the first one with <paramref name="firstSiloArgs"/> too, and
    /// connects the client. Every silo of the cluster, also those started later, gets <paramref name="siloArgs"/>.
    /// </summary>
    public static async Task<DeploymentCluster> StartAsync(int silos, IReadOnlyList<string>? failureDetection = null, DeploymentTls? tls = null,
        IReadOnlyList<string>? firstSiloArgs = null, IReadOnlyList<string>? siloArgs = null)
    {
        var cluster = new DeploymentCluster(EmbeddedGarnet.Start(), failureDetection ?? FastFailureDetection, tls, siloArgs ?? []);
        try
        {
            // The first silo alone, so that it is the oldest and the one that creates the group.
            await cluster.StartSiloAsync(firstSiloArgs);
            await Task.WhenAll(Enumerable.Range(1, silos - 1).Select(_ => cluster.StartSiloAsync()));
            await cluster.ConnectClientAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts a silo process with the cluster's TLS options, or <paramref name="tlsArgs"/> instead if given, and
    /// <paramref name="extraArgs"/>.
    /// </summary>
    public async Task<SiloInstance> StartSiloAsync(IReadOnlyList<string>? extraArgs = null, IReadOnlyList<string>? tlsArgs = null)
    {
        var index = Interlocked.Increment(ref _started);
        var name = $"silo{index}";
        var siloPort = FreePorts.Next();
        var gatewayPort = FreePorts.Next();
        string[] args =
        [
            "--mode", "silo", "--clustering", "redis", "--redis", RedisConnection, "--cluster-id", _clusterId, "--name", name,
            "--silo-port", Str(siloPort), "--gateway-port", Str(gatewayPort),
            .. _failureDetection,
            "--RaftCache:TickInterval=00:00:00.050", "--RaftCache:BootstrapStableFor=00:00:00.500",
            "--RaftCache:MembershipCheckInterval=00:00:00.200", "--RaftCache:RequestTimeout=" + Deadlines.SiloRequestTimeout.ToString("c", CultureInfo.InvariantCulture),
            "--Logging:LogLevel:RaftCache=Information",
            .. tlsArgs ?? _tls?.SiloArgs ?? [],
            .. _siloArgs,
            .. extraArgs ?? [],
        ];
        var process = ChildProcess.Start(name, BuiltPrograms.SiloDll, args, readyLine: "Silo ready");
        var silo = new SiloInstance(name, siloPort, gatewayPort, process);
        lock (_silos) _silos.Add(silo);
        await process.WaitReadyAsync(Deadlines.SiloReady);
        return silo;
    }

    private async Task ConnectClientAsync()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(options => options.ConfigurationOptions = ConfigurationOptions.Parse(RedisConnection));
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = _clusterId;
                options.ServiceId = "raftcache";
            });
            // A request in flight to a killed silo otherwise waits the default 30 s.
            client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = Deadlines.ClientCall);
            // Learn about replacement silos' gateways quickly.
            client.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            client.UseConnectionRetryFilter(async (_, token) =>
            {
                await Task.Delay(200, token);
                return true;
            });
            if (_tls is { } tls)
            {
                client.UseTls(TestCertificates.Load(tls.ClientPfx), options =>
                    options.RemoteCertificateValidation = (certificate, _, errors) => tls.Certificates.Trusts(certificate, errors));
            }

            client.AddRaftCacheClient(callTimeout: Deadlines.ClientCall);
        });
        _client = builder.Build();
        using var deadline = new CancellationTokenSource(Deadlines.SiloReady);
        await _client.StartAsync(deadline.Token);
    }

    public async Task<ClusterStatus> StatusAsync() => await Facade.GetStatus().WaitAsync(Deadlines.Call);

    /// <summary>
    /// Waits until every group has one leader of <paramref name="voters"/> voters and no learner, with every listed silo
    /// among its voters and following it (with as many silos as voters, placement puts every group on every silo).
    /// </summary>
    public Task<ClusterStatus> WaitForGroupAsync(IReadOnlyCollection<SiloInstance> members, int voters) => WaitForGroupAsync(members, voters, Deadlines.GroupChange);

    /// <summary>As <see cref="WaitForGroupAsync(IReadOnlyCollection{SiloInstance}, int)"/>, with a deadline of its own.</summary>
    public Task<ClusterStatus> WaitForGroupAsync(IReadOnlyCollection<SiloInstance> members, int voters, TimeSpan timeout)
    {
        ClusterStatus? last = null;
        return Eventually.WaitAsync(async () =>
        {
            var status = last = await StatusAsync();
            var groups = (await Facade.GetLimits().WaitAsync(Deadlines.Call)).Layout?.Groups ?? 0;
            if (groups == 0 || status.Groups.Length != groups) return null;
            foreach (var group in status.Groups)
            {
                var leader = status.LeaderOf(group);
                if (leader is null || leader.Voters.Length != voters || leader.Learners.Length != 0) return null;
                var replicas = members.Select(m => status.Replicas.FirstOrDefault(r => r.Group == group && m.Hosts(r))).ToList();
                if (!replicas.All(r => r is not null && r.GroupId == leader.GroupId && r.LeaderId == leader.MemberId && leader.Voters.Contains(r.MemberId))) return null;
            }

            return status;
        }, timeout, $"every group with {voters} voters led by one leader, with {string.Join(", ", members.Select(m => m.Name))} as voters", () => Describe(last));
    }

    public SiloInstance SiloOf(ReplicaStatus replica) => _silos.Single(s => s.Hosts(replica));

    /// <summary>The CLI options that reach this deployment through its membership table, with the tests' CLI timeouts.</summary>
    public IReadOnlyList<string> CliConnection => ["--redis", RedisConnection, "--cluster-id", _clusterId, .. Deadlines.CliTimeoutArgs];

    public static string Describe(ClusterStatus? status) => status is null ? "(no status)" : string.Join(Environment.NewLine,
        status.Replicas.Select(r => $"  g{r.Group} {r.Silo} id={r.MemberId} role={r.Role} term={r.Term} leader={r.LeaderId} commit={r.Commit} applied={r.Applied} voters=[{string.Join(",", r.Voters)}] learners=[{string.Join(",", r.Learners)}] {r.Message}")
        .Concat(status.Unreachable.Select(u => "  unreachable " + u)));

    /// <summary>Every silo's captured output, for failure messages.</summary>
    public string Outputs()
    {
        var text = new StringBuilder();
        lock (_silos)
        {
            foreach (var silo in _silos)
            {
                var state = silo.Process.HasExited ? $"exited with {silo.Process.ExitCode}" : "running";
                text.AppendLine(CultureInfo.InvariantCulture, $"----- {silo.Name} (pid {silo.Process.Id}, silo port {silo.SiloPort}, {state}) -----");
                text.AppendLine(silo.Process.Output);
            }
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                using var deadline = new CancellationTokenSource(Deadlines.Reap);
                await _client.StopAsync(deadline.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or OrleansException or TimeoutException)
            {
                // The cluster may be gone already.
            }

            _client.Dispose();
        }

        List<SiloInstance> silos;
        lock (_silos) silos = [.. _silos];
        foreach (var silo in silos) await silo.Process.DisposeAsync();
        _garnet.Dispose();
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
