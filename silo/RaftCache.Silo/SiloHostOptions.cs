using System.Net;
using Microsoft.Extensions.Configuration;

namespace RaftCache.Silo;

/// <summary>How the silo process runs.</summary>
public enum SiloMode
{
    /// <summary>A local development cluster: several silos on loopback in this one process (the default).</summary>
    Dev,

    /// <summary>One silo in this process, with ports and clustering from the options (deployment).</summary>
    Silo,
}

/// <summary>Which membership table the silos share.</summary>
public enum ClusteringKind
{
    /// <summary>The membership table lives in the primary silo: quick to set up, but the primary is a single point of failure.</summary>
    Localhost,

    /// <summary>The membership table lives in a Redis (or Garnet) server: any silo may fail.</summary>
    Redis,
}

/// <summary>Settings of the silo host, bound from the configuration section <c>Silo</c> and the command line.</summary>
public sealed class SiloHostOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Silo";

    /// <summary>The first silo port of the development cluster; silo i uses this plus i.</summary>
    public const int DevSiloPort = 11111;

    /// <summary>The first gateway port of the development cluster; silo i uses this plus i.</summary>
    public const int DevGatewayPort = 30000;

    /// <summary>Dev (default) or Silo.</summary>
    public SiloMode Mode { get; set; } = SiloMode.Dev;

    /// <summary>The number of silos of the development cluster. Default 3.</summary>
    public int DevSilos { get; set; } = 3;

    /// <summary>The silo-to-silo port (deployment mode; the first port of the development cluster). Default 11111.</summary>
    public int SiloPort { get; set; } = DevSiloPort;

    /// <summary>The client gateway port (deployment mode; the first port of the development cluster). Default 30000.</summary>
    public int GatewayPort { get; set; } = DevGatewayPort;

    /// <summary>The address the silo listens on and advertises. Default 127.0.0.1.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Localhost (default) or Redis.</summary>
    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    /// <summary>Localhost clustering: the primary silo's silo endpoint (host:port). Default: this silo is the primary.</summary>
    public string? Primary { get; set; }

    /// <summary>Redis clustering: the StackExchange.Redis connection string, for example <c>127.0.0.1:6379</c>.</summary>
    public string? Redis { get; set; }

    /// <summary>The Orleans cluster id; clients must use the same. Default <c>raftcache</c>.</summary>
    public string ClusterId { get; set; } = "raftcache";

    /// <summary>The Orleans service id. Default <c>raftcache</c>.</summary>
    public string ServiceId { get; set; } = "raftcache";

    /// <summary>The silo name (logs only). Default: chosen by Orleans.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// How long a stop (Ctrl+C, SIGTERM) may take: the replica hands leadership over and asks to be removed from the
    /// group before the silo leaves. Default 10 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Development cluster: how long to wait for a leader before giving up. Default 60 s.</summary>
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The live view's port on <see cref="Address"/>, or 0 for no view. Default: <see cref="LiveView.DevPort"/> (8080) in
    /// the development cluster, none in deployment mode.
    /// </summary>
    public int? ViewPort { get; set; }

    /// <summary>The live view's address as a Kestrel URL (for example <c>http://0.0.0.0:8080</c>); overrides <see cref="ViewPort"/>.</summary>
    public string? ViewUrl { get; set; }

    /// <summary>The live view's URL to listen on, or null for no view.</summary>
    public string? ViewListenUrl => ViewUrl is { Length: > 0 } url ? url
        : (ViewPort ?? (Mode == SiloMode.Dev ? LiveView.DevPort : 0)) is var port and > 0 ? new UriBuilder(Uri.UriSchemeHttp, Address, port).Uri.ToString()
        : null;

    /// <summary>The command-line switches and the configuration keys they set.</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["--mode"] = "Silo:Mode",
        ["--silos"] = "Silo:DevSilos",
        ["--silo-port"] = "Silo:SiloPort",
        ["--gateway-port"] = "Silo:GatewayPort",
        ["--address"] = "Silo:Address",
        ["--clustering"] = "Silo:Clustering",
        ["--primary"] = "Silo:Primary",
        ["--redis"] = "Silo:Redis",
        ["--cluster-id"] = "Silo:ClusterId",
        ["--service-id"] = "Silo:ServiceId",
        ["--name"] = "Silo:Name",
        ["--shutdown-timeout"] = "Silo:ShutdownTimeout",
        ["--ready-timeout"] = "Silo:ReadyTimeout",
        ["--view-port"] = "Silo:ViewPort",
        ["--view-url"] = "Silo:ViewUrl",
        ["--probe-timeout"] = "Membership:ProbeTimeout",
        ["--missed-probes-limit"] = "Membership:NumMissedProbesLimit",
        ["--table-refresh-timeout"] = "Membership:TableRefreshTimeout",
        ["--tls-certificate"] = "Tls:Certificate",
        ["--tls-password"] = "Tls:Password",
        ["--tls-store-subject"] = "Tls:StoreSubject",
        ["--tls-ca"] = "Tls:Ca",
        ["--tls-require-client-certificate"] = "Tls:RequireClientCertificate",
    };

    /// <summary>Switches that may be given without a value, meaning <c>true</c>.</summary>
    public static IReadOnlySet<string> Flags { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "--tls-require-client-certificate" };

    /// <summary>
    /// The TLS certificates loaded from the <c>Tls</c> section, or null when TLS is off. Not a setting of this section
    /// (internal, so the binder leaves it alone).
    /// </summary>
    internal RaftCache.Tls.ClusterTls? Tls { get; set; }

    /// <summary>
    /// <paramref name="args"/> with each <see cref="Flags"/> switch that has no value (last, or followed by another
    /// switch) given the value <c>true</c>, since the configuration's command-line source needs a value for each.
    /// </summary>
    public static string[] NormalizeFlags(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            var bare = Flags.Contains(args[i]) && (i + 1 == args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal));
            result.Add(bare ? args[i] + "=true" : args[i]);
        }

        return [.. result];
    }

    /// <summary>The parsed <see cref="Address"/> (valid after <see cref="Validate"/>).</summary>
    public IPAddress IPAddress => IPAddress.Parse(Address);

    /// <summary>Binds the options from <paramref name="configuration"/>; each value that does not convert becomes a message.</summary>
    /// <remarks>Bound one setting at a time (<see cref="SettingsBinder"/>), so that one bad value does not hide the others' errors.</remarks>
    public static SiloHostOptions Bind(IConfiguration configuration, List<string> errors) =>
        SettingsBinder.Bind<SiloHostOptions>(configuration, SectionName, errors);

    /// <summary>Adds a message per invalid setting to <paramref name="errors"/>.</summary>
    public void Validate(List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!Enum.IsDefined(Mode)) errors.Add($"--mode must be dev or silo (is {Mode}).");
        if (!Enum.IsDefined(Clustering)) errors.Add($"--clustering must be localhost or redis (is {Clustering}).");
        if (!IPAddress.TryParse(Address, out _)) errors.Add($"--address must be an IP address (is '{Address}').");
        if (Mode == SiloMode.Dev)
        {
            if (DevSilos is < 1 or > 9) errors.Add($"--silos must be between 1 and 9 (is {DevSilos}).");
            if (Clustering != ClusteringKind.Localhost) errors.Add("The development cluster uses localhost clustering; use --mode silo for Redis clustering.");
        }

        var silos = Mode == SiloMode.Dev ? Math.Max(DevSilos, 1) : 1;
        if (SiloPort < 1 || SiloPort + silos - 1 > 65535) errors.Add($"--silo-port must be a TCP port (is {SiloPort}).");
        if (GatewayPort < 1 || GatewayPort + silos - 1 > 65535) errors.Add($"--gateway-port must be a TCP port (is {GatewayPort}).");
        if (Mode == SiloMode.Silo && SiloPort == GatewayPort) errors.Add("--silo-port and --gateway-port must differ.");
        if (Mode == SiloMode.Dev && SiloPort < GatewayPort + silos && GatewayPort < SiloPort + silos)
            errors.Add("The silo and gateway port ranges of the development cluster overlap.");
        if (Clustering == ClusteringKind.Redis && string.IsNullOrWhiteSpace(Redis))
            errors.Add("--redis CONNECTION is required with --clustering redis (for example --redis 127.0.0.1:6379).");
        if (Clustering == ClusteringKind.Localhost && Primary is not null && !TryParseEndpoint(Primary, out _))
            errors.Add($"--primary must be host:port of the primary silo's silo port (is '{Primary}').");
        if (string.IsNullOrWhiteSpace(ClusterId)) errors.Add("--cluster-id must not be empty.");
        if (string.IsNullOrWhiteSpace(ServiceId)) errors.Add("--service-id must not be empty.");
        if (ShutdownTimeout <= TimeSpan.Zero) errors.Add($"--shutdown-timeout must be positive (is {ShutdownTimeout}).");
        if (ViewPort is < 0 or > 65535) errors.Add($"--view-port must be a TCP port, or 0 for no view (is {ViewPort}).");
        if (ViewUrl is { Length: > 0 } viewUrl && (!Uri.TryCreate(viewUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
            errors.Add($"--view-url must be an http:// or https:// URL such as http://127.0.0.1:8080 (is '{viewUrl}').");
        if (ReadyTimeout <= TimeSpan.Zero) errors.Add($"--ready-timeout must be positive (is {ReadyTimeout}).");
    }

    /// <summary>Parses <c>host:port</c> where host is an IP address or <c>localhost</c>.</summary>
    public static bool TryParseEndpoint(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535) return false;
        var host = text[..colon];
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            endpoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }

        if (!IPAddress.TryParse(host.Trim('[', ']'), out var address)) return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }
}

/// <summary>Turns configuration binding failures into one-line messages.</summary>
internal static class ConfigurationErrors
{
    public static string Describe(Exception e)
    {
        // The binder says "Failed to convert configuration value at 'Silo:SiloPort' to type 'System.Int32'."; the
        // inner exception says why ("abc is not a valid value for Int32").
        var message = e.Message;
        if (e.InnerException is { } inner) message += " " + inner.Message;
        return message;
    }
}
