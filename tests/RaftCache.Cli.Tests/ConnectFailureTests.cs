using System.Net;
using Orleans.Runtime.Messaging;
using StackExchange.Redis;

namespace RaftCache.Cli.Tests;

/// <summary>
/// The messages for each way a connection fails, from what Orleans reports in that case (see
/// <see cref="ConnectFailure"/>) and what the CLI's own probes find. The processes' side is in the deployment tests.
/// </summary>
public sealed class ConnectFailureTests
{
    private static readonly ConnectionSettings Dev = new(ConnectionSettings.DevGateways, null, "raftcache", "raftcache", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));

    private static ConnectionSettings Redis(string clusterId = "raftcache", string serviceId = "raftcache") =>
        Dev with { Redis = "127.0.0.1:6399", ClusterId = clusterId, ServiceId = serviceId };

    private static readonly Exception Refused = new ConnectionFailedException("Unable to connect to any of the 3 available gateways.",
        new ConnectionFailedException("Unable to connect to endpoint S127.0.0.1:30000:0. See InnerException",
            new OrleansException("Unable to connect to 127.0.0.1:30000. Error: ConnectionRefused")));

    private static readonly Exception Closed = new ConnectionFailedException("Unable to connect to any of the 1 available gateways.",
        new ConnectionFailedException("Unable to connect to endpoint S127.0.0.1:30000:0. See InnerException",
            new InvalidOperationException("Connection terminated prematurely")));

    private static readonly Exception Cached = new ConnectionFailedException("Unable to connect to any of the 1 available gateways.",
        new ConnectionFailedException("Unable to connect to S127.0.0.1:30000:0, will retry after 736.8812ms"));

    private static EndpointProbe Listening(string endpoint) => new(endpoint, true, null);

    private static EndpointProbe NothingAt(string endpoint) => new(endpoint, false, "connection refused (nothing listens there)");

    [Fact]
    public void No_gateway_listening_names_the_gateways_the_cluster_id_and_how_to_start_the_development_cluster()
    {
        var message = ConnectFailure.Describe(Dev, [Refused, Cached], Cached,
            [NothingAt("127.0.0.1:30000"), NothingAt("127.0.0.1:30001"), NothingAt("127.0.0.1:30002")], null, null);

        Assert.StartsWith("No gateway at 127.0.0.1:30000, 127.0.0.1:30001, 127.0.0.1:30002 accepted a connection for cluster 'raftcache' within 10 s: connection refused (nothing listens there).", message, StringComparison.Ordinal);
        Assert.Contains("dotnet run -c Release --project silo/RaftCache.Silo", message, StringComparison.Ordinal);
        Assert.Contains("--cluster-id", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gateways_failing_differently_are_listed_by_reason()
    {
        var message = ConnectFailure.Describe(Dev, [Refused], Refused,
            [NothingAt("127.0.0.1:30000"), new EndpointProbe("10.9.9.9:30001", false, "no answer within 2 s")], null, null);
        Assert.Contains("connection refused (nothing listens there) at 127.0.0.1:30000; no answer within 2 s at 10.9.9.9:30001.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gateway_of_another_cluster_id_is_reported_as_such_even_when_the_last_error_hides_it()
    {
        var message = ConnectFailure.Describe(Dev with { ClusterId = "wrong" }, [Closed, Cached], Cached, [Listening("127.0.0.1:30000"), NothingAt("127.0.0.1:30001")], null, null);

        Assert.StartsWith("The gateway at 127.0.0.1:30000 accepted a TCP connection but closed it during the Orleans handshake: it does not serve cluster 'wrong'", message, StringComparison.Ordinal);
        Assert.Contains("Connection refused (nothing listens there) at 127.0.0.1:30001.", message, StringComparison.Ordinal);
        Assert.Contains("Check --cluster-id", message, StringComparison.Ordinal);
        Assert.Contains("the development cluster uses 'raftcache'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_redis_is_reported_as_the_membership_store_not_as_a_canceled_task()
    {
        var message = ConnectFailure.Describe(Redis(), [new RedisConnectionException(ConnectionFailureType.UnableToConnect,
                "It was not possible to connect to the redis server(s). Error connecting right now. To allow this multiplexer to continue retrying until it's able to connect, use abortConnect=false.")],
            new TaskCanceledException(), [NothingAt("127.0.0.1:6399")], table: null, tableError: "UnableToConnect: It was not possible to connect to the redis server(s)");

        Assert.StartsWith("Could not reach the membership store at redis 127.0.0.1:6399 within 10 s: connection refused (nothing listens there) at 127.0.0.1:6399.", message, StringComparison.Ordinal);
        Assert.DoesNotContain("canceled", message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("--redis", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_redis_that_accepts_but_does_not_answer_as_redis_gets_the_redis_client_reason_without_its_advice()
    {
        var message = ConnectFailure.Describe(Redis(), [], new RedisConnectionException(ConnectionFailureType.UnableToConnect,
                "It was not possible to connect to the redis server(s). Error connecting right now. To allow this multiplexer to continue retrying, use abortConnect=false."),
            [Listening("127.0.0.1:6399")], table: null, tableError: null);

        Assert.StartsWith("Could not reach the membership store at redis 127.0.0.1:6399 within 10 s: UnableToConnect: It was not possible to connect to the redis server(s).", message, StringComparison.Ordinal);
        Assert.DoesNotContain("abortConnect", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_membership_table_without_the_cluster_lists_the_clusters_it_has()
    {
        MembershipRow[] table =
        [
            new("raftcache", "deploy-1", "127.0.0.1:11111@1", MembershipRow.ActiveStatus, "127.0.0.1:30000"),
            new("raftcache", "deploy-1", "127.0.0.1:11112@1", MembershipRow.ActiveStatus, "127.0.0.1:30001"),
            new("other", "deploy-2", "127.0.0.1:11113@1", MembershipRow.ActiveStatus, "127.0.0.1:30002"),
            new("raftcache", "old", "127.0.0.1:11114@1", 6, "127.0.0.1:30003"),
        ];
        var message = ConnectFailure.Describe(Redis("wrong"), [new SiloUnavailableException("Could not find any gateway in 'Orleans.Clustering.Redis.RedisGatewayListProvider'.")],
            new SiloUnavailableException("Could not find any gateway"), [], table, null);

        Assert.StartsWith("The membership table at redis 127.0.0.1:6399 lists no active gateway for cluster 'wrong' (service 'raftcache'): it has no silo of that cluster.", message, StringComparison.Ordinal);
        Assert.Contains("Clusters with active silos there: 'deploy-1' (2 silos), 'deploy-2' of service 'other' (1 silo).", message, StringComparison.Ordinal);
        Assert.Contains("Check --cluster-id and --service-id", message, StringComparison.Ordinal);
    }

    [Fact]
    public void When_Orleans_found_no_gateway_but_the_table_could_not_be_read_again_the_message_still_says_no_gateway()
    {
        var message = ConnectFailure.Describe(Redis("wrong"), [new SiloUnavailableException("Could not find any gateway")],
            new SiloUnavailableException("Could not find any gateway"), [Listening("127.0.0.1:6399")], table: null, tableError: "no answer within 9 s");

        Assert.StartsWith("The membership table at redis 127.0.0.1:6399 lists no active gateway for cluster 'wrong' (service 'raftcache').", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_membership_table_whose_silos_are_all_dead_says_so()
    {
        MembershipRow[] table =
        [
            new("raftcache", "deploy-1", "127.0.0.1:11111@1", 6, "127.0.0.1:30000"),
            new("raftcache", "deploy-1", "127.0.0.1:11112@1", 6, "127.0.0.1:30001"),
        ];
        var message = ConnectFailure.Describe(Redis("deploy-1"), [], new SiloUnavailableException("Could not find any gateway"), [], table, null);

        Assert.Contains("lists no active gateway for cluster 'deploy-1' (service 'raftcache'): it lists 2 silos of that cluster, none active (2 dead).", message, StringComparison.Ordinal);
        Assert.Contains("No cluster has active silos there.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gateways_listed_in_the_table_but_not_listening_are_named_with_where_they_came_from()
    {
        MembershipRow[] table = [new("raftcache", "raftcache", "127.0.0.1:11111@1", MembershipRow.ActiveStatus, "127.0.0.1:30000")];
        var message = ConnectFailure.Describe(Redis(), [Refused], Cached, [NothingAt("127.0.0.1:30000")], table, null);

        Assert.StartsWith("No gateway at 127.0.0.1:30000 (listed in the membership table at redis 127.0.0.1:6399) accepted a connection for cluster 'raftcache' within 10 s", message, StringComparison.Ordinal);
        Assert.Contains("killed", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_membership_row_as_Orleans_stores_it_reads_as_a_gateway()
    {
        const string Json = """{"SiloAddress":{"SiloAddress":"127.0.0.1:21211@155050557"},"Status":3,"SuspectTimes":[],"ProxyPort":40100,"HostName":"vm","SiloName":"Silo_2b092","RoleName":"RaftCache.Silo","UpdateZone":0,"FaultZone":0,"StartTime":"2026-11-30T13:35:57.6987776Z","IAmAliveTime":"2026-11-30T13:36:14.5597628Z"}""";
        var row = ConnectFailure.ParseRow("raftcache", "exp1", "S127.0.0.1:21211:155050557", Json);

        Assert.NotNull(row);
        Assert.Equal("127.0.0.1:40100", row.Gateway);
        Assert.True(row.IsActiveGateway);
        Assert.Null(ConnectFailure.ParseRow("raftcache", "exp1", "x", "not json"));
        Assert.False(ConnectFailure.ParseRow("raftcache", "exp1", "x", """{"Status":6,"ProxyPort":1}""")!.IsActiveGateway);
    }

    [Fact]
    public async Task Probing_a_port_where_nothing_listens_reports_connection_refused_and_a_listener_is_accepted()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;
        int closed;
        using (var other = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            other.Start();
            closed = ((IPEndPoint)other.LocalEndpoint).Port;
        }

        var probes = await ConnectFailure.ProbeAsync([$"127.0.0.1:{open}", $"127.0.0.1:{closed}"], CancellationToken.None);

        Assert.True(probes[0].Accepted);
        Assert.False(probes[1].Accepted);
        Assert.Equal("connection refused (nothing listens there)", probes[1].Error);
    }
}
