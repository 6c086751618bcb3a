using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using RaftCache.Server;

namespace RaftCache.Silo;

/// <summary>The silo program: a development cluster by default, one deployment silo with <c>--mode silo</c>.</summary>
internal static class Program
{
    /// <summary>Exit code: the silo or cluster stopped normally.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code: the silo could not start or failed (port in use, membership store unreachable, no leader).</summary>
    public const int ExitFailed = 1;

    /// <summary>Exit code: invalid options; nothing was started.</summary>
    public const int ExitInvalidOptions = 2;

    private const string Usage = """
        RaftCache silo

        Usage:
          RaftCache.Silo                      a development cluster: 3 silos on 127.0.0.1 in this process,
                                              silo ports 11111-11113, gateways 30000-30002, localhost clustering
          RaftCache.Silo --mode silo [...]    one silo in this process (deployment)

        Options (also settable in appsettings.json, section Silo, or as environment variables Silo__Name):
          --mode dev|silo                  dev (default) or one silo per process
          --silos N                        dev: number of silos (default 3)
          --silo-port PORT                 silo-to-silo port (dev: the first one; default 11111)
          --gateway-port PORT              client gateway port (dev: the first one; default 30000)
          --address IP                     address to listen on and advertise (default 127.0.0.1)
          --clustering localhost|redis     membership table: in the primary silo, or in a Redis/Garnet server
          --primary HOST:PORT              localhost clustering: the primary silo's silo endpoint (default: this silo)
          --redis CONNECTION               redis clustering: StackExchange.Redis connection string, e.g. 127.0.0.1:6379
          --cluster-id ID, --service-id ID Orleans cluster and service ids (default raftcache)
          --name NAME                      silo name
          --shutdown-timeout TIMESPAN      time allowed for a graceful stop (default 00:00:10)
          --ready-timeout TIMESPAN         dev: time allowed for the group to elect a leader (default 00:01:00)
          --view-port PORT                 the live view, a web page of every group and replica (JSON: /api/status),
                                           on --address: dev default 8080, 0 for none; silo: none unless given
          --view-url URL                   the live view's address instead, e.g. http://0.0.0.0:8080 (no authentication)
          --no-view                        no live view (the same as --view-port 0)
          --probe-timeout TIMESPAN         membership failure detection (Membership:ProbeTimeout)
          --missed-probes-limit N          membership failure detection (Membership:NumMissedProbesLimit)
          --table-refresh-timeout TIMESPAN membership failure detection (Membership:TableRefreshTimeout)
          --tls-certificate PATH           TLS between silos and from clients: this silo's certificate and key,
                                           a PFX file (Tls:Certificate); TLS is off without it
          --tls-password PASSWORD          the PFX file's password (Tls:Password; better: environment Tls__Password)
          --tls-store-subject NAME         instead of a file: the certificate in CurrentUser\My whose subject
                                           contains NAME (Tls:StoreSubject)
          --tls-ca PATH                    the CA certificate (PEM or DER) that silos' and clients' certificates
                                           must chain to (Tls:Ca); default: the machine's trust store
          --tls-require-client-certificate clients must present a certificate the CA signed
                                           (Tls:RequireClientCertificate)
          --Section:Key=VALUE              any other setting, e.g. --RaftCache:TickInterval=00:00:00.050,
                                           --Membership:IAmAliveTablePublishTimeout=00:00:02
                                           (environment: RaftCache__TickInterval=00:00:00.050)

        Exit codes: 0 stopped normally, 1 could not start or failed, 2 invalid options.
        Ctrl+C or SIGTERM stops gracefully: each replica hands leadership over and leaves the group.
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h" or "-?"))
        {
            Console.WriteLine(Usage);
            return ExitOk;
        }

        // The one switch without a value; the configuration's command-line provider wants one.
        args = [.. args.Select(a => a == "--no-view" ? "--view-port=0" : a)];
        args = SiloHostOptions.NormalizeFlags(args);
        var errors = new List<string>();
        CheckArguments(args, errors);
        if (errors.Count > 0) return InvalidOptions(errors);

        IConfigurationRoot configuration;
        try
        {
            var builder = new ConfigurationBuilder();
            SiloHost.AddSources(builder, args);
            configuration = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            return InvalidOptions([e.Message]);
        }

        // Every section is bound setting by setting and the RaftCache options are validated here, before anything
        // starts, so that one message lists every invalid setting: values that do not convert and values out of range.
        var options = SiloHostOptions.Bind(configuration, errors);
        options.Validate(errors);
        var tls = SettingsBinder.Bind<SiloTlsOptions>(configuration, SiloTlsOptions.SectionName, errors);
        if (errors.Count == 0) options.Tls = tls.Load(errors);
        _ = SettingsBinder.Bind<ClusterMembershipOptions>(configuration, "Membership", errors);
        var raftCache = SettingsBinder.Bind<RaftCacheOptions>(configuration, RaftCacheOptions.SectionName, errors);
        errors.AddRange(RaftCacheOptionsValidator.GetErrors(raftCache));
        if (errors.Count > 0) return InvalidOptions(errors);

        return options.Mode == SiloMode.Dev
            ? await DevCluster.RunAsync(options, args).ConfigureAwait(false)
            : await RunSiloAsync(options, args).ConfigureAwait(false);
    }

    private static async Task<int> RunSiloAsync(SiloHostOptions options, string[] args)
    {
        var primary = options.Primary is { } text && SiloHostOptions.TryParseEndpoint(text, out var endpoint)
            ? endpoint
            : new IPEndPoint(options.IPAddress, options.SiloPort);
        var plan = new SiloPlan(options, options.SiloPort, options.GatewayPort, primary, options.Name);
        var errors = new List<string>();
        SiloHost.CheckPortsFree(plan, errors);
        if (errors.Count > 0) return Failed(errors);

        using var host = SiloHost.Build(plan, args, ownsConsoleLifetime: true);
        LiveView? view = null;
        try
        {
            ValidateOptions(host);
            // Before the silo, so that an address in use stops the start before the silo joins the cluster.
            if (options.ViewListenUrl is { } url) view = await StartViewAsync(url, host).ConfigureAwait(false);
            await host.StartAsync().ConfigureAwait(false);
        }
        catch (OptionsValidationException e)
        {
            return InvalidOptions(e.Failures);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (view is not null) await view.DisposeAsync().ConfigureAwait(false);
            return Failed([view is null && options.ViewListenUrl is { } url ? $"could not start the live view on {url}: {e.Message}" : Describe(e)]);
        }

        await using var viewLifetime = view;
        if (view is not null) Console.WriteLine($"Live view: {view.Url} (JSON: {view.Url}api/status)");
        var clustering = options.Clustering == ClusteringKind.Redis ? "redis" : $"localhost, primary {primary}";
        Console.WriteLine($"Silo ready: silo {plan.SiloEndpoint}, gateway {plan.GatewayEndpoint}, cluster {options.ClusterId}, clustering {clustering}.");
        await host.WaitForShutdownAsync().ConfigureAwait(false);
        Console.WriteLine("Silo stopped.");
        return ExitOk;
    }

    /// <summary>
    /// The configuration provider accepts any <c>--key value</c>, so a misspelt switch would be silently ignored:
    /// accept only the known switches and <c>--Section:Key</c> settings.
    /// </summary>
    private static void CheckArguments(string[] args, List<string> errors)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"Unexpected argument '{arg}'.");
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            if (!SiloHostOptions.SwitchMappings.ContainsKey(name) && !name.Contains(':', StringComparison.Ordinal))
                errors.Add($"Unknown option '{name}'.");
            if (equals < 0)
            {
                if (i + 1 >= args.Length) errors.Add($"Option '{name}' needs a value.");
                i++;
            }
        }
    }

    internal static int InvalidOptions(IEnumerable<string> errors)
    {
        Console.Error.WriteLine("RaftCache silo: invalid options:");
        foreach (var error in errors) Console.Error.WriteLine("  " + error);
        Console.Error.WriteLine("Run with --help to see the options.");
        return ExitInvalidOptions;
    }

    internal static int Failed(IEnumerable<string> errors)
    {
        foreach (var error in errors) Console.Error.WriteLine("RaftCache silo: " + error);
        return ExitFailed;
    }

    /// <summary>The messages of an exception and its causes, without the stack trace.</summary>
    internal static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (messages.Count == 0 || messages[^1] != current.Message) messages.Add(current.Message);
        }

        return "could not start: " + string.Join(" ", messages);
    }

    /// <summary>
    /// Validates the RaftCache options before the host starts: the host would reject them too, but it logs the
    /// failure with a stack trace first, which is noise for a settings mistake.
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    internal static void ValidateOptions(IHost host) => _ = host.Services.GetRequiredService<IOptions<RaftCacheOptions>>().Value;

    /// <summary>Starts the live view on <paramref name="url"/>, reading the status through <paramref name="host"/>'s grain factory.</summary>
    internal static Task<LiveView> StartViewAsync(string url, IHost host)
    {
        var configuration = Service<IConfiguration>(host);
        // The façade waits up to RequestTimeout for each silo's answer; allow that and a margin.
        var timeout = Service<IOptions<RaftCacheOptions>>(host).Value.RequestTimeout + TimeSpan.FromSeconds(5);
        return LiveView.StartAsync(url, Service<IGrainFactory>(host), configuration, timeout);
    }

    /// <summary>The services of a started silo host (for the development cluster's readiness check).</summary>
    internal static T Service<T>(IHost host) where T : notnull => host.Services.GetRequiredService<T>();
}
