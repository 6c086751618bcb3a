using System.CommandLine;
using System.Net;
using RaftCache.Tls;

namespace RaftCache.Cli;

/// <summary>The <c>raftcache</c> command line.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Spectre assumes 80 columns when the output is not a terminal, which wraps the tables; a pipe or file has no width.
        if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 240;
        var root = Commands.Build();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var message in parse.Errors.Select(e => e.Message).Distinct()) Console.Error.WriteLine("raftcache: " + message);
            Console.Error.WriteLine("Run 'raftcache --help' (or 'raftcache COMMAND --help') for usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync().ConfigureAwait(false);
    }
}

/// <summary>The options every command takes: where the cluster is and the deadlines.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string[]> Gateway = new("--gateway", "-g")
    {
        Description = "A gateway endpoint HOST:PORT; repeat for several. Default: the local development cluster (127.0.0.1:30000-30002).",
        Recursive = true,
        Arity = ArgumentArity.OneOrMore,
        HelpName = "HOST:PORT",
    };

    public static readonly Option<string?> Redis = new("--redis")
    {
        Description = "Find the gateways in the cluster's Redis (or Garnet) membership table, for example 127.0.0.1:6379.",
        Recursive = true,
        HelpName = "CONNECTION",
    };

    public static readonly Option<string> ClusterId = new("--cluster-id")
    {
        Description = "The Orleans cluster id.",
        Recursive = true,
        DefaultValueFactory = _ => "raftcache",
    };

    public static readonly Option<string> ServiceId = new("--service-id")
    {
        Description = "The Orleans service id.",
        Recursive = true,
        DefaultValueFactory = _ => "raftcache",
    };

    public static readonly Option<TimeSpan?> ConnectTimeout = new("--connect-timeout")
    {
        Description = "How long to try to reach the cluster (default 10s).",
        Recursive = true,
        CustomParser = Durations.ParsePositive,
        HelpName = "DURATION",
    };

    public static readonly Option<TimeSpan?> Timeout = new("--timeout")
    {
        Description = "How long one request may take before the client gives up on it (default 10s; recover: 30s).",
        Recursive = true,
        CustomParser = Durations.ParsePositive,
        HelpName = "DURATION",
    };

    public static readonly Option<bool> Tls = new("--tls")
    {
        Description = "Connect with TLS, trusting the machine's certificate store (implied by --tls-ca and --tls-certificate).",
        Recursive = true,
    };

    public static readonly Option<string?> TlsCa = new("--tls-ca")
    {
        Description = "TLS: the CA certificate (PEM or DER) the gateways' certificates must chain to, as the silos' --tls-ca.",
        Recursive = true,
        HelpName = "PATH",
    };

    public static readonly Option<string?> TlsCertificate = new("--tls-certificate")
    {
        Description = "TLS: this client's certificate and key, a PFX file; needed when the silos require client certificates.",
        Recursive = true,
        HelpName = "PATH",
    };

    public static readonly Option<string?> TlsPassword = new("--tls-password")
    {
        Description = "The PFX file's password (default: the environment variable Tls__Password).",
        Recursive = true,
        HelpName = "PASSWORD",
    };

    static GlobalOptions()
    {
        Gateway.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (!TryParseEndpoint(token.Value, out _))
                    result.AddError($"'{token.Value}' is not a gateway endpoint HOST:PORT (for example 127.0.0.1:30000).");
            }
        });
    }

    /// <summary>The connection settings of the command line; the request timeout is <paramref name="defaultTimeout"/> (else 10 s) unless <c>--timeout</c> is given.</summary>
    public static ConnectionSettings Settings(ParseResult parse, TimeSpan? defaultTimeout = null)
    {
        var gateways = parse.GetValue(Gateway) is { Length: > 0 } given
            ? given.Select(g => TryParseEndpoint(g, out var e) ? e : throw new InvalidOperationException("validated")).ToList()
            : ConnectionSettings.DevGateways;
        return new ConnectionSettings(
            gateways,
            parse.GetValue(Redis),
            parse.GetValue(ClusterId)!,
            parse.GetValue(ServiceId)!,
            parse.GetValue(ConnectTimeout) ?? TimeSpan.FromSeconds(10),
            parse.GetValue(Timeout) ?? defaultTimeout ?? TimeSpan.FromSeconds(10),
            LoadTls(parse));
    }

    /// <summary>The TLS settings, or null without TLS.</summary>
    /// <exception cref="InvalidTlsOptionsException">A certificate file is missing or unreadable.</exception>
    private static ClusterTls? LoadTls(ParseResult parse)
    {
        var caPath = parse.GetValue(TlsCa);
        var certificatePath = parse.GetValue(TlsCertificate);
        if (!parse.GetValue(Tls) && caPath is null && certificatePath is null) return null;
        var errors = new List<string>();
        var password = parse.GetValue(TlsPassword) ?? Environment.GetEnvironmentVariable("Tls__Password");
        var certificate = certificatePath is null ? null : ClusterTls.LoadPfx(certificatePath, password, "--tls-certificate", "--tls-password or Tls__Password", errors);
        var ca = caPath is null ? null : ClusterTls.LoadCa(caPath, "--tls-ca", errors);
        if (errors.Count > 0) throw new InvalidTlsOptionsException(string.Join(Environment.NewLine, errors));
        return new ClusterTls(certificate, ca, RequireClientCertificate: false);
    }

    public static bool TryParseEndpoint(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535) return false;
        var host = text[..colon].Trim('[', ']');
        IPAddress? address;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out address))
        {
            try
            {
                address = Dns.GetHostAddresses(host).FirstOrDefault();
            }
            catch (System.Net.Sockets.SocketException)
            {
                address = null;
            }
        }

        if (address is null) return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }
}
