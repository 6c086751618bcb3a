using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Orleans.Runtime.Messaging;
using StackExchange.Redis;

namespace RaftCache.Cli;

/// <summary>What a TCP connection attempt to one endpoint found.</summary>
/// <param name="Endpoint">The endpoint, as given or as listed in the membership table.</param>
/// <param name="Accepted">Whether something accepted the TCP connection.</param>
/// <param name="Error">Why not, in words ("connection refused (nothing listens there)"); null when accepted.</param>
internal sealed record EndpointProbe(string Endpoint, bool Accepted, string? Error);

/// <summary>One row of an Orleans Redis membership table: a silo, its status and its gateway.</summary>
/// <param name="ServiceId">The service id the table belongs to.</param>
/// <param name="ClusterId">The cluster id the table belongs to.</param>
/// <param name="Silo">The silo address (host:port@generation).</param>
/// <param name="Status">Orleans' <c>SiloStatus</c>: 3 is Active, 6 Dead.</param>
/// <param name="Gateway">The silo's client gateway endpoint, or null if it has none.</param>
internal sealed record MembershipRow(string ServiceId, string ClusterId, string Silo, int Status, string? Gateway)
{
    /// <summary>Orleans' <c>SiloStatus.Active</c>.</summary>
    public const int ActiveStatus = 3;

    /// <summary>Whether the silo is active; only active silos with a gateway are offered to clients.</summary>
    public bool IsActiveGateway => Status == ActiveStatus && Gateway is not null;
}

/// <summary>
/// Why the client could not connect, told from what Orleans reported while it tried and from a look of our own at
/// the gateways and the membership table. Orleans' own message ("Unable to connect to any of the 1 available
/// gateways", "A task was canceled.") does not say whether nothing listens, a gateway of another cluster turned the
/// client away, or the membership store was out of reach, and each has a different fix.
/// </summary>
/// <remarks>
/// What Orleans 10 reports, found by trying each case:
/// <list type="bullet">
/// <item>no gateway listening: <c>ConnectionFailedException</c> wrapping <c>SocketConnectionException</c>
/// ("Unable to connect to 127.0.0.1:30000. Error: ConnectionRefused");</item>
/// <item>a gateway of another cluster id: the TCP connection is accepted and the gateway closes it during the
/// handshake: <c>ConnectionFailedException</c> wrapping <c>ConnectionAbortedException</c> ("Underlying connection
/// closed") or <c>InvalidOperationException</c> ("Connection terminated prematurely"). A different service id is
/// not checked at connection time;</item>
/// <item>a Redis address where nothing listens: <c>RedisConnectionException</c> ("It was not possible to connect
/// to the redis server(s)") after StackExchange.Redis's connect timeout (5 s), then the start-up is canceled at the
/// deadline: "A task was canceled.";</item>
/// <item>a membership table with no active silo of the cluster id: <c>SiloUnavailableException</c> ("Could not
/// find any gateway in 'Orleans.Clustering.Redis.RedisGatewayListProvider'").</item>
/// </list>
/// Later attempts at an endpoint that failed often say only "Unable to connect to S127.0.0.1:30000:0, will retry
/// after 736ms", hiding the cause, so every exception seen during the attempt is kept, not just the last one.
/// </remarks>
internal static class ConnectFailure
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan TableReadTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Looks at the gateways or the membership store, then describes the failure.</summary>
    public static async Task<string> DescribeAsync(ConnectionSettings settings, IReadOnlyList<Exception> seen, Exception final, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Redis is null)
        {
            var probes = await ProbeAsync(settings.Gateways.Select(g => g.ToString()), cancellationToken).ConfigureAwait(false);
            return Describe(settings, seen, final, probes, table: null, tableError: null);
        }

        var (table, tableError) = await ReadMembershipTableAsync(settings.Redis, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<EndpointProbe> targets;
        if (table is null)
            targets = await ProbeAsync(RedisEndpoints(settings.Redis), cancellationToken).ConfigureAwait(false);
        else
            targets = await ProbeAsync(ActiveGateways(settings, table), cancellationToken).ConfigureAwait(false);
        return Describe(settings, seen, final, targets, table, tableError);
    }

    /// <summary>
    /// The message for a failed connection. <paramref name="probes"/> are the static gateways, or with Redis the
    /// gateways the table lists as active (or, when the table could not be read, the Redis endpoints).
    /// </summary>
    public static string Describe(
        ConnectionSettings settings, IReadOnlyList<Exception> seen, Exception final,
        IReadOnlyList<EndpointProbe> probes, IReadOnlyList<MembershipRow>? table, string? tableError)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(seen);
        ArgumentNullException.ThrowIfNull(probes);
        var all = seen.Append(final).SelectMany(Chain).ToList();
        var within = $"within {Seconds(settings.ConnectTimeout)}";
        if (settings.Redis is not { } redis) return DescribeGateways(settings, all, probes, within, source: null);

        var store = $"the membership store at redis {redis}";
        var noGateway = all.OfType<SiloUnavailableException>().Any();
        if (table is null && noGateway)
        {
            // Orleans read the table and found no gateway, though the CLI's own read of it failed.
            return $"The membership table at redis {redis} lists no active gateway for cluster '{settings.ClusterId}' (service '{settings.ServiceId}')." + Environment.NewLine +
                   "Check --cluster-id and --service-id (they must equal the silos' --cluster-id and --service-id) and that the silos are running.";
        }

        if (table is null)
        {
            // The CLI's own read of the table failed too: the store is out of reach (or not a Redis server).
            var unreachable = probes.FirstOrDefault(p => !p.Accepted);
            var reason = unreachable is not null
                ? $"{unreachable.Error} at {unreachable.Endpoint}"
                : all.OfType<RedisException>().Select(RedisReason).FirstOrDefault() ?? tableError ?? "no answer";
            return $"Could not reach {store} {within}: {reason}." + Environment.NewLine +
                   "Check that the Redis or Garnet server is running and that --redis names it (HOST:PORT, or a StackExchange.Redis connection string).";
        }

        var mine = table.Where(r => Same(r.ServiceId, settings.ServiceId) && Same(r.ClusterId, settings.ClusterId)).ToList();
        if (!mine.Any(r => r.IsActiveGateway))
        {
            var text = new StringBuilder($"The membership table at redis {redis} lists no active gateway for cluster '{settings.ClusterId}' (service '{settings.ServiceId}')");
            text.Append(mine.Count == 0
                ? ": it has no silo of that cluster."
                : $": it lists {Count(mine.Count, "silo")} of that cluster, none active ({Statuses(mine)}).");
            var others = table.Where(r => r.IsActiveGateway && !(Same(r.ServiceId, settings.ServiceId) && Same(r.ClusterId, settings.ClusterId)))
                .GroupBy(r => (r.ServiceId, r.ClusterId))
                .Select(g => $"'{g.Key.ClusterId}'" + (Same(g.Key.ServiceId, settings.ServiceId) ? "" : $" of service '{g.Key.ServiceId}'") + $" ({Count(g.Count(), "silo")})")
                .ToList();
            text.Append(others.Count == 0 ? " No cluster has active silos there." : $" Clusters with active silos there: {string.Join(", ", others)}.");
            text.AppendLine().Append("Check --cluster-id and --service-id (they must equal the silos' --cluster-id and --service-id) and that the silos are running.");
            return text.ToString();
        }

        return DescribeGateways(settings, all, probes, within, source: $"listed in the membership table at redis {redis}");
    }

    private static string DescribeGateways(ConnectionSettings settings, List<Exception> all, IReadOnlyList<EndpointProbe> probes, string within, string? source)
    {
        var accepted = probes.Where(p => p.Accepted).Select(p => p.Endpoint).ToList();
        var failed = probes.Where(p => !p.Accepted).ToList();
        var where = source is null ? "" : $" ({source})";
        var text = new StringBuilder();
        if (accepted.Count == 0)
        {
            text.Append($"No gateway at {string.Join(", ", probes.Select(p => p.Endpoint))}{where} accepted a connection for cluster '{settings.ClusterId}' {within}: ");
            var reasons = failed.GroupBy(p => p.Error).ToList();
            text.Append(reasons.Count == 1
                ? reasons[0].Key
                : string.Join("; ", reasons.Select(g => $"{g.Key} at {string.Join(", ", g.Select(p => p.Endpoint))}")));
            text.Append('.').AppendLine();
            text.Append(source is null
                ? "Check that the cluster is running (the development cluster: `dotnet run -c Release --project silo/RaftCache.Silo`), " +
                  "the gateway ports (--gateway HOST:PORT; the development cluster's are 127.0.0.1:30000-30002), " +
                  "and --cluster-id (the development cluster uses 'raftcache')."
                : "Check that the silos are running and reachable from here at the addresses they advertise (their --address). " +
                  "A silo that was killed stays listed until the other silos declare it dead; a cluster whose every silo was killed stays listed.");
            return text.ToString();
        }

        // Something listens. A gateway of another cluster id accepts the TCP connection and then closes it.
        var closed = all.Any(e => e.GetType().Name == "ConnectionAbortedException"
            || (e is InvalidOperationException && e.Message.Contains("terminated prematurely", StringComparison.OrdinalIgnoreCase)));
        var them = accepted.Count == 1 ? "it does" : "they do";
        text.Append($"The gateway{(accepted.Count == 1 ? "" : "s")} at {string.Join(", ", accepted)}{where} accepted a TCP connection but ");
        if (closed)
        {
            text.Append($"closed it during the Orleans handshake: {them} not serve cluster '{settings.ClusterId}' (or {(accepted.Count == 1 ? "is not an Orleans gateway" : "are not Orleans gateways")}" +
                (settings.Tls is null ? ", or the cluster uses TLS: give --tls-ca" : "") + ").");
        }
        else
        {
            var detail = all.OfType<ConnectionFailedException>().Select(e => Innermost(e).Message).LastOrDefault() ?? Innermost(all[^1]).Message;
            text.Append($"no Orleans connection for cluster '{settings.ClusterId}' was established {within} ({detail}).");
        }

        if (failed.Count > 0)
            text.Append(' ').Append(string.Join(" ", failed.GroupBy(p => p.Error).Select(g => $"{Capitalize(g.Key!)} at {string.Join(", ", g.Select(p => p.Endpoint))}.")));
        text.AppendLine();
        text.Append("Check --cluster-id: it must equal the silos' --cluster-id (the development cluster uses 'raftcache').");
        return text.ToString();
    }

    /// <summary>
    /// The message for a connection that failed because of TLS, or null if nothing points at TLS. Orleans' TLS
    /// layer closes a connection whose handshake failed and logs why, so the client itself sees only a closed
    /// connection: <paramref name="rejected"/> are the reasons this client refused a gateway's certificate, and an
    /// authentication error in <paramref name="seen"/> is the gateway refusing this client.
    /// </summary>
    public static string? DescribeTls(ConnectionSettings settings, IEnumerable<Exception> seen, IReadOnlyList<string> rejected)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(rejected);
        if (settings.Tls is null) return null;
        if (rejected.Count > 0)
        {
            return $"TLS: the gateway's certificate is not trusted: {rejected[^1]}." + Environment.NewLine +
                   (settings.Tls.Ca is null
                       ? "Give --tls-ca with the CA certificate that signed the silos' certificates (the silos' --tls-ca)."
                       : "Check --tls-ca: it must be the CA certificate that signed the silos' certificates (the silos' --tls-ca).");
        }

        var all = seen.SelectMany(Chain).ToList();
        var failure = all.FirstOrDefault(e => e is System.Security.Authentication.AuthenticationException
            || e.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("SSL", StringComparison.Ordinal));
        // A gateway that refuses the client's certificate (or its lack of one) closes the connection after the TLS
        // handshake, which the client sees as a closed connection, like a gateway of another cluster id.
        var closed = all.Any(e => e.GetType().Name == "ConnectionAbortedException"
            || (e is InvalidOperationException && e.Message.Contains("terminated prematurely", StringComparison.OrdinalIgnoreCase)));
        if (failure is null && !closed) return null;
        var why = failure is null
            ? $"the gateway accepted its certificate but closed the connection: it refused this client's certificate (or its lack of one), or it does not serve cluster '{settings.ClusterId}' (check --cluster-id)"
            : $"the gateway refused this client's TLS handshake ({failure.Message})";
        return $"TLS: {why}." + Environment.NewLine +
               (settings.Tls.Certificate is null
                   ? "The silos may require client certificates (--tls-require-client-certificate): give --tls-certificate with a certificate their CA signed."
                   : "Check --tls-certificate: the silos' CA (their --tls-ca) must have signed it, and it must allow client authentication.");
    }

    /// <summary>Opens (and closes) a TCP connection to each endpoint, in parallel.</summary>
    public static async Task<IReadOnlyList<EndpointProbe>> ProbeAsync(IEnumerable<string> endpoints, CancellationToken cancellationToken) =>
        await Task.WhenAll(endpoints.Select(e => ProbeAsync(e, cancellationToken))).ConfigureAwait(false);

    private static async Task<EndpointProbe> ProbeAsync(string endpoint, CancellationToken cancellationToken)
    {
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            return new EndpointProbe(endpoint, false, "not a HOST:PORT endpoint");
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await socket.ConnectAsync(endpoint[..colon].Trim('[', ']'), port, timeout.Token).ConfigureAwait(false);
            return new EndpointProbe(endpoint, true, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new EndpointProbe(endpoint, false, $"no answer within {Seconds(ProbeTimeout)}");
        }
        catch (SocketException e)
        {
            return new EndpointProbe(endpoint, false, e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused (nothing listens there)",
                SocketError.TimedOut => "no answer (timed out)",
                SocketError.HostNotFound or SocketError.NoData => "unknown host",
                SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
                _ => e.SocketErrorCode.ToString(),
            });
        }
    }

    /// <summary>
    /// Reads every Orleans membership table in the Redis server (keys <c>SERVICE/members/CLUSTER</c>, Orleans'
    /// default key), or says why it could not. Best effort and diagnostic only: the format is Orleans'.
    /// </summary>
    public static async Task<(IReadOnlyList<MembershipRow>? Rows, string? Error)> ReadMembershipTableAsync(string redis, CancellationToken cancellationToken)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(redis);
        }
        catch (ArgumentException e)
        {
            return (null, e.Message);
        }

        options.ConnectTimeout = Math.Min(options.ConnectTimeout, (int)TableReadTimeout.TotalMilliseconds);
        options.AbortOnConnectFail = true;
        // The whole read is bounded too: SCAN walks the server's every key, which can take a while on a big one.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(3 * TableReadTimeout);
        try
        {
            using var connection = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(deadline.Token).ConfigureAwait(false);
            var database = connection.GetDatabase();
            var server = connection.GetServers().FirstOrDefault(s => s.IsConnected);
            if (server is null) return (null, "no server of the connection string is connected");
            var rows = new List<MembershipRow>();
            var keys = 0;
            await foreach (var key in server.KeysAsync(database.Database, "*/members/*", pageSize: 100).WithCancellation(deadline.Token).ConfigureAwait(false))
            {
                // Enough to tell a wrong id from a stopped cluster; a store full of tables is not this tool's to list.
                if (++keys > 100) break;
                var name = key.ToString();
                var slash = name.IndexOf("/members/", StringComparison.Ordinal);
                var (service, cluster) = (name[..slash], name[(slash + "/members/".Length)..]);
                var fields = await database.HashGetAllAsync(key).WaitAsync(deadline.Token).ConfigureAwait(false);
                rows.AddRange(fields.Where(f => f.Name != "Version").Select(f => ParseRow(service, cluster, f.Name.ToString(), f.Value.ToString())).OfType<MembershipRow>());
            }

            return (rows, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {Seconds(3 * TableReadTimeout)}");
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException or SocketException)
        {
            return (null, RedisReason(e));
        }
    }

    /// <summary>One table row: JSON as Orleans' Redis membership table stores it; null if it does not read as one.</summary>
    internal static MembershipRow? ParseRow(string serviceId, string clusterId, string field, string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var status = root.TryGetProperty("Status", out var s) && s.TryGetInt32(out var n) ? n : -1;
            var proxyPort = root.TryGetProperty("ProxyPort", out var p) && p.TryGetInt32(out var port) ? port : 0;
            // The silo address is "host:port@generation"; its gateway is the same host on the proxy port.
            var address = field;
            if (root.TryGetProperty("SiloAddress", out var a) && a.ValueKind == JsonValueKind.Object && a.TryGetProperty("SiloAddress", out var inner) && inner.GetString() is { } text)
                address = text;
            var at = address.IndexOf('@', StringComparison.Ordinal);
            var hostEnd = (at < 0 ? address : address[..at]).LastIndexOf(':');
            string? gateway = proxyPort > 0 && hostEnd > 0 ? $"{address[..hostEnd]}:{proxyPort}" : null;
            return new MembershipRow(serviceId, clusterId, address, status, gateway);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<string> ActiveGateways(ConnectionSettings settings, IReadOnlyList<MembershipRow> table) =>
        table.Where(r => r.IsActiveGateway && Same(r.ServiceId, settings.ServiceId) && Same(r.ClusterId, settings.ClusterId)).Select(r => r.Gateway!).Distinct();

    private static List<string> RedisEndpoints(string redis)
    {
        try
        {
            return ConfigurationOptions.Parse(redis).EndPoints.Select(e => e switch
            {
                DnsEndPoint dns => $"{dns.Host}:{(dns.Port == 0 ? 6379 : dns.Port)}",
                IPEndPoint ip => $"{ip.Address}:{(ip.Port == 0 ? 6379 : ip.Port)}",
                _ => e.ToString() ?? "",
            }).ToList();
        }
        catch (ArgumentException)
        {
            return [];
        }
    }

    private static string RedisReason(Exception e)
    {
        // StackExchange.Redis appends advice to set abortConnect=false, which is about long-lived applications.
        var message = e.Message;
        var sentence = message.IndexOf(". ", StringComparison.Ordinal);
        if (sentence > 0) message = message[..sentence];
        return e is RedisConnectionException connection ? $"{connection.FailureType}: {message}" : message;
    }

    private static string Statuses(List<MembershipRow> rows) => string.Join(", ", rows.GroupBy(r => StatusName(r.Status)).Select(g => $"{g.Count()} {g.Key}"));

    private static string StatusName(int status) => status switch
    {
        1 => "created",
        2 => "joining",
        3 => "active without a gateway",
        4 => "shutting down",
        5 => "stopping",
        6 => "dead",
        _ => "unknown",
    };

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain)) yield return inner;
                yield break;
            }
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.Ordinal);

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Seconds(TimeSpan time) => $"{time.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";
}
